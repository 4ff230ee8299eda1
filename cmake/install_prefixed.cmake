# Run by `cmake --install` (install.cmake sets HP_SOURCE_DIR, HP_BINARY_DIR, HP_BINDIR), where
# CMAKE_INSTALL_PREFIX is the prefix being installed to: hostpool.pc's prefix, and the unit's
# ExecStart naming the installed binary (contrib/hostpool.service says /usr/bin/hostpool).
configure_file("${HP_BINARY_DIR}/hostpool.pc.in" "${HP_BINARY_DIR}/hostpool.pc" @ONLY)
file(READ "${HP_SOURCE_DIR}/contrib/hostpool.service" unit)
string(REPLACE "/usr/bin/hostpool" "${CMAKE_INSTALL_PREFIX}/${HP_BINDIR}/hostpool" unit "${unit}")
file(WRITE "${HP_BINARY_DIR}/hostpool.service" "${unit}")
