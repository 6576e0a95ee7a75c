# `cmake --install` for attn-mlir: the public headers (with the generated
# .inc files), the shared libraries, the mlir-opt plugin, the tools, and the
# CMake package AttnMLIR, so that another project can write
#
#   find_package(AttnMLIR REQUIRED CONFIG)
#   target_link_libraries(my-opt PRIVATE AttnMLIR::AttnTransforms)
#
# The package depends on the MLIR this tree was built with (Debian's
# /usr/lib/llvm-22): its config file finds that MLIR again and our targets
# link its libMLIR.so. Included from the top-level CMakeLists.txt after all
# targets exist. docs/Embedding.md describes the layout.
include(CMakePackageConfigHelpers)

set(ATTN_MLIR_VERSION 0.1.0)
set(ATTN_INSTALL_PACKAGE_DIR lib/cmake/AttnMLIR)

# Libraries exported as AttnMLIR::<name>. The C API library and the plugin
# join when they are built.
set(ATTN_EXPORTED_TARGETS AttnIR AttnTransforms AttnArtifact)
foreach(target AttnCAPI AttnPlugin)
  if(TARGET ${target})
    list(APPEND ATTN_EXPORTED_TARGETS ${target})
  endif()
endforeach()
foreach(target ${ATTN_EXPORTED_TARGETS})
  target_include_directories(${target} INTERFACE $<INSTALL_INTERFACE:include>)
endforeach()

install(TARGETS ${ATTN_EXPORTED_TARGETS}
  EXPORT AttnMLIRTargets
  LIBRARY DESTINATION lib
  ARCHIVE DESTINATION lib
  RUNTIME DESTINATION bin)

# What libAttnArtifact.so links into (the support archive) or copies next to
# (the CUDA runtime) the artifacts it writes; it looks for them next to
# itself.
install(TARGETS attn_cuda_runtime LIBRARY DESTINATION lib)
install(TARGETS attn_artifact_support ARCHIVE DESTINATION lib)

# Tools; each is installed when this tree builds it.
foreach(tool attn-opt attn-run attn-compile attn-lsp-server)
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION bin)
  endif()
endforeach()

# Headers: ours, the TableGen sources (for projects that extend the dialect)
# and the generated declarations.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/
  DESTINATION include
  FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/
  DESTINATION include
  FILES_MATCHING PATTERN "*.inc"
  PATTERN "CMakeFiles" EXCLUDE)

install(EXPORT AttnMLIRTargets
  NAMESPACE AttnMLIR::
  DESTINATION ${ATTN_INSTALL_PACKAGE_DIR})
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/AttnMLIRConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/AttnMLIRConfig.cmake
  INSTALL_DESTINATION ${ATTN_INSTALL_PACKAGE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/AttnMLIRConfigVersion.cmake
  VERSION ${ATTN_MLIR_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/AttnMLIRConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/AttnMLIRConfigVersion.cmake
  DESTINATION ${ATTN_INSTALL_PACKAGE_DIR})
