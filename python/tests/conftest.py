"""Puts python/ on sys.path so that `import attn_mlir` works without installing it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
