"""Gives the arguments of @main in REWRITTEN (printed by attn-opt as %arg0, %arg1, ...) the names
they have in SPEC, so that the artifact's entry keeps its argument names (attn-compile takes them
from the SSA names). Every %argN of the file is renamed; attn-opt's printer gives no other value
such a name.

usage: rename_entry_args.py SPEC REWRITTEN
"""
import re
import sys

spec, rewritten = sys.argv[1], sys.argv[2]
signature = re.search(r"func\.func @main\((.*?)\)\s*->", open(spec).read(), re.S).group(1)
names = re.findall(r"%([\w$.-]+)\s*:", signature)
text = open(rewritten).read()
text = re.sub(r"%arg(\d+)\b",
              lambda m: "%" + names[int(m.group(1))] if int(m.group(1)) < len(names)
              else m.group(0), text)
open(rewritten, "w").write(text)
