# klab_add_plugin(<name> SOURCES <file>... [TORCH] [LIBRARIES <lib>...] [OUTPUT_DIRECTORY <dir>])
#
# Builds <name>.so, a klab plugin: a MODULE library (no "lib" prefix) linked against the SDK and
# nothing of the host. Without TORCH it links klab::sdk (klab headers, nlohmann_json,
# Boost.DLL: data sources, trees, linear models); with TORCH klab::sdk_torch (the same plus
# LibTorch: models deriving from klab::TorchModel). The sources must use KLAB_MODEL_PLUGIN or
# KLAB_DATA_SOURCE_PLUGIN once. Put the output folder on KLAB_PLUGIN_PATH (or pass --plugin-dir)
# and every klab tool finds the plugin by its name.
function(klab_add_plugin name)
  cmake_parse_arguments(ARG "TORCH" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "klab_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  if(ARG_TORCH)
    target_link_libraries(${name} PRIVATE klab::sdk_torch ${ARG_LIBRARIES})
  else()
    target_link_libraries(${name} PRIVATE klab::sdk ${ARG_LIBRARIES})
  endif()
  target_compile_features(${name} PRIVATE cxx_std_17)
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME ${name})
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
endfunction()
