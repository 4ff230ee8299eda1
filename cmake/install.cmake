# What `make install` (cmake --install) puts where: the binary, libhostpool (static and shared,
# with a soname), its headers, hostpool.pc, the man pages, the systemd unit and the bash
# completion. Paths follow GNUInstallDirs, under CMAKE_INSTALL_PREFIX (or --prefix); DESTDIR
# is honoured by cmake --install itself.
include(GNUInstallDirs)

install(TARGETS hostpool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS hostpool_lib hostpool_shared
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Unspecified)
install(DIRECTORY include/hostpool DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# hostpool.pc and the systemd unit name the prefix given at install time (cmake --install
# --prefix DIR), not only the one configured: install_prefixed.cmake fills them in then.
set(HP_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")
# Requires: libuv, which the public headers include; Requires.private: the other pkg-config
# modules of HP_LIB_LINK (for static linking); Libs.private: its plain libraries.
set(HP_PC_REQUIRES_PRIVATE "")
set(HP_PC_LIBS_PRIVATE "")
foreach(dependency ${HP_LIB_LINK})
  if(dependency MATCHES "^PkgConfig::(.+)$")
    if(NOT CMAKE_MATCH_1 STREQUAL "UV")
      list(APPEND HP_PC_REQUIRES_PRIVATE ${${CMAKE_MATCH_1}_MODULE_NAME})
    endif()
  elseif(dependency STREQUAL "Threads::Threads")
    list(APPEND HP_PC_LIBS_PRIVATE -lpthread)
  else()
    list(APPEND HP_PC_LIBS_PRIVATE -l${dependency})
  endif()
endforeach()
list(JOIN HP_PC_REQUIRES_PRIVATE " " HP_PC_REQUIRES_PRIVATE)
list(JOIN HP_PC_LIBS_PRIVATE " " HP_PC_LIBS_PRIVATE)
configure_file(cmake/hostpool.pc.in ${CMAKE_BINARY_DIR}/hostpool.pc.in @ONLY)
install(CODE "set(HP_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
  set(HP_BINARY_DIR \"${CMAKE_BINARY_DIR}\")
  set(HP_BINDIR \"${CMAKE_INSTALL_BINDIR}\")")
install(SCRIPT cmake/install_prefixed.cmake)
install(FILES ${CMAKE_BINARY_DIR}/hostpool.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${CMAKE_BINARY_DIR}/hostpool.service DESTINATION lib/systemd/system)

install(FILES man/hostpool.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES man/hostpool.yaml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES contrib/hostpool.bash-completion DESTINATION
  ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME hostpool)
