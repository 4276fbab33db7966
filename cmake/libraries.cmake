# The libraries onnx-mini ships: libonnx_mini.so (onnx_mini::onnx_mini) and
# libonnx_mini.a (onnx_mini::onnx_mini_static), each ONE file made from the
# objects of the layer libraries (core, ops, graph, runtime, api).
#
# Why from the layers' objects: the layers stay separate static libraries, so
# the tests, tools and the layering check keep linking exactly the layer they
# test, and every source is compiled once (position-independent, hidden
# visibility) for all of them. An OBJECT-library rewrite of the layers would not
# carry objects transitively (a target gets only the objects of the OBJECT
# libraries it links directly), and shipping the five archives would make users
# link them in dependency order by hand - what the install has to end.

# The ABI number: libonnx_mini.so.${ONNX_MINI_SOVERSION} and the version node
# ONNX_MINI_${ONNX_MINI_SOVERSION} in cmake/onnx_mini.map. Bumped (with the
# map's node name) on any incompatible change of the exported API; README
# "Install and embed" states the policy.
set(ONNX_MINI_SOVERSION 1)

set(onnx_mini_layers onnxmini_core onnxmini_ops onnxmini_graph onnxmini_runtime onnxmini_api)
# PIC: the objects go into a shared library (and the Python extension), and a
# user may link the static archive into a shared object of their own. Hidden
# visibility: only what include/onnx_mini marks ONNX_MINI_API is exported.
set_target_properties(${onnx_mini_layers} PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden
  C_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON)
set(onnx_mini_objects)
foreach(layer IN LISTS onnx_mini_layers)
  list(APPEND onnx_mini_objects $<TARGET_OBJECTS:${layer}>)
endforeach()

# OpenBLAS as a target, so the static library's exported link interface names a
# target the package config can re-create (cmake/onnx_mini-config.cmake.in)
# rather than this machine's path.
add_library(onnx_mini::openblas INTERFACE IMPORTED)
set_target_properties(onnx_mini::openblas PROPERTIES INTERFACE_LINK_LIBRARIES "${OPENBLAS_LIBRARY}")
set(onnx_mini_dependencies protobuf::libprotobuf onnx_proto onnx_mini::openblas Threads::Threads)

set(onnx_mini_public_includes
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

add_library(onnx_mini SHARED ${onnx_mini_objects})
add_library(onnx_mini::onnx_mini ALIAS onnx_mini)
# The dependencies are the shared library's own (DT_NEEDED): a user links
# libonnx_mini.so alone.
target_link_libraries(onnx_mini PRIVATE ${onnx_mini_dependencies})
target_include_directories(onnx_mini INTERFACE ${onnx_mini_public_includes})
set(onnx_mini_map ${PROJECT_SOURCE_DIR}/cmake/onnx_mini.map)
target_link_options(onnx_mini PRIVATE -Wl,--version-script=${onnx_mini_map})
if(NOT ONNX_MINI_SANITIZE AND NOT ONNX_MINI_TSAN AND NOT ONNX_MINI_FUZZ)
  # Every symbol resolved at link time: a dependency missing here would only
  # show up in a user's program. (Sanitizer runtimes are left to the executable.)
  target_link_options(onnx_mini PRIVATE -Wl,-z,defs)
endif()
set_target_properties(onnx_mini PROPERTIES
  LINKER_LANGUAGE CXX
  VERSION ${PROJECT_VERSION}
  SOVERSION ${ONNX_MINI_SOVERSION}
  LINK_DEPENDS ${onnx_mini_map}
  LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)

add_library(onnx_mini_static STATIC ${onnx_mini_objects})
add_library(onnx_mini::onnx_mini_static ALIAS onnx_mini_static)
# A static archive carries no dependencies: they become $<LINK_ONLY:...> entries
# of its link interface, found again by the package config.
target_link_libraries(onnx_mini_static PRIVATE ${onnx_mini_dependencies})
target_include_directories(onnx_mini_static INTERFACE ${onnx_mini_public_includes})
set_target_properties(onnx_mini_static PROPERTIES
  LINKER_LANGUAGE CXX
  OUTPUT_NAME onnx_mini
  ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
