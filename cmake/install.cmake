# `cmake --install`: the libraries, the public headers, the CMake package and the
# pkg-config file. The tools install from tools/, the Python package from
# python/. Every destination is relative to the prefix (GNUInstallDirs), so
# `cmake --install build --prefix DIR` puts a working tree under DIR, and both
# package files find the prefix from where they are installed.
# Two components, as a distribution splits them: Runtime (the shared library,
# the tools, the Python package: what running programs need) and Development
# (headers, the static library, the .so link, the package files);
# `cmake --install build --component Runtime` installs the first alone.
include(CMakePackageConfigHelpers)

set(ONNX_MINI_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/onnx_mini)

install(TARGETS onnx_mini onnx_mini_static EXPORT onnx_mini-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development)
set_target_properties(onnx_mini PROPERTIES EXPORT_NAME onnx_mini)
set_target_properties(onnx_mini_static PROPERTIES EXPORT_NAME onnx_mini_static)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/onnx_mini DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT Development FILES_MATCHING PATTERN "*.h")

install(EXPORT onnx_mini-targets NAMESPACE onnx_mini:: DESTINATION ${ONNX_MINI_INSTALL_CMAKEDIR}
  COMPONENT Development)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/onnx_mini-config.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/onnx_mini-config.cmake INSTALL_DESTINATION ${ONNX_MINI_INSTALL_CMAKEDIR})
# 0.x: only the same minor version is compatible (the ABI may change between
# minors until 1.0, README "Install and embed").
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/onnx_mini-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/onnx_mini-config.cmake
  ${PROJECT_BINARY_DIR}/cmake/onnx_mini-config-version.cmake DESTINATION ${ONNX_MINI_INSTALL_CMAKEDIR}
  COMPONENT Development)

# pkg-config: prefix relative to the .pc file's own folder (${pcfiledir}), so
# the file is right wherever the tree is installed or moved.
set(ONNX_MINI_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH ONNX_MINI_PC_TO_PREFIX /prefix/${ONNX_MINI_PKGCONFIGDIR} /prefix)
string(REGEX REPLACE "/$" "" ONNX_MINI_PC_TO_PREFIX "${ONNX_MINI_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/onnx_mini.pc.in ${PROJECT_BINARY_DIR}/cmake/onnx_mini.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/onnx_mini.pc DESTINATION ${ONNX_MINI_PKGCONFIGDIR} COMPONENT Development)
