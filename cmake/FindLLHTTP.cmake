# Locates the llhttp C sources that Debian's node-llhttp package installs
# (/usr/share/llhttp/*.c and /usr/share/include/llhttp/llhttp.h) and builds them
# as a static library target `llhttp::llhttp`. The sources are never copied into the repo.
find_path(LLHTTP_INCLUDE_DIR llhttp.h
  PATHS /usr/share/include/llhttp /usr/include/llhttp /usr/local/include)
find_path(LLHTTP_SOURCE_DIR llhttp.c
  PATHS /usr/share/llhttp /usr/local/share/llhttp)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LLHTTP DEFAULT_MSG LLHTTP_INCLUDE_DIR LLHTTP_SOURCE_DIR)

if(LLHTTP_FOUND AND NOT TARGET llhttp::llhttp)
  add_library(hp_llhttp STATIC
    ${LLHTTP_SOURCE_DIR}/llhttp.c ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c)
  target_include_directories(hp_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
  # The sources hold two parsers; without this the lenient one is compiled (llhttp.h defaults
  # LLHTTP_STRICT_MODE to 0), which ends a header section or a chunk at a CR followed by any
  # byte, takes a space in a field name and raw bytes >= 0x80, TAB or FF in a target.
  target_compile_definitions(hp_llhttp PRIVATE LLHTTP_STRICT_MODE=1)
  # Generated code: our warning flags are not its business.
  target_compile_options(hp_llhttp PRIVATE -w)
  set_target_properties(hp_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON)
  add_library(llhttp::llhttp ALIAS hp_llhttp)
endif()
