# Writes OUT, a C file that defines one string constant per Avro schema in
# SCHEMA_DIR: schemas/kpi_update.avsc becomes `const char schema_kpi_update[]`.
file(GLOB schema_files "${SCHEMA_DIR}/*.avsc")
list(SORT schema_files)
set(body "/* Generated from the .avsc files in schemas/ by cmake/embed_schemas.cmake. */\n")
foreach(path IN LISTS schema_files)
  get_filename_component(name "${path}" NAME_WE)
  file(READ "${path}" text HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${text}")
  string(APPEND body "const char schema_${name}[] = {${bytes}0x00};\n")
endforeach()
file(WRITE "${OUT}.tmp" "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
