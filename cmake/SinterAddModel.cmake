# sinter_add_model(TARGET MODEL.json [WEIGHTS FILE.safetensors] [OPTIONS flag...])
#
# Compiles a sinter model at build time into an object and links it into TARGET, with the
# generated header NAME.h on TARGET's include path (NAME: the model's "name"), like Halide's
# add_halide_library. The object is rebuilt when the model, its own weights file, the WEIGHTS
# file or the sinter command change. TARGET also links sinter::runtime (the runtime, libgomp,
# libm). WEIGHTS takes the params from a .safetensors file (sinter compile --weights: a
# checkpoint of 'sinter train --save' works); OPTIONS are further flags of 'sinter compile'
# (-O3, --cpu x86-64-v3, --external-weights, ...). Relative paths are taken from the current
# source folder. Needs the C language enabled in the project.
function(sinter_add_model target model)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "WEIGHTS" "OPTIONS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sinter_add_model: unexpected arguments ${ARG_UNPARSED_ARGUMENTS} "
                        "(expected TARGET MODEL.json [WEIGHTS FILE] [OPTIONS ...])")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "sinter_add_model: ${target} is not a target (add_executable or add_library first)")
  endif()
  get_filename_component(model "${model}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "sinter_add_model: ${model}: no such file")
  endif()

  # The model's name decides the file names, and its "weights" file is an input too: read both
  # now, and configure again when the model changes.
  file(READ "${model}" json)
  string(JSON name ERROR_VARIABLE err GET "${json}" name)
  if(err)
    message(FATAL_ERROR "sinter_add_model: ${model}: cannot read the model's \"name\": ${err}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "sinter_add_model: ${model}: the name \"${name}\" is not a C identifier")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${model}")
  set(deps "${model}")
  string(JSON own_weights ERROR_VARIABLE werr GET "${json}" weights)
  if(NOT werr)
    get_filename_component(model_dir "${model}" DIRECTORY)
    get_filename_component(own_weights "${own_weights}" ABSOLUTE BASE_DIR "${model_dir}")
    list(APPEND deps "${own_weights}")
  endif()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/sinter_models/${target}")
  set(obj "${dir}/${name}.o")
  set(hdr "${dir}/${name}.h")
  set(args compile "${model}" -o "${obj}")
  if(ARG_WEIGHTS)
    get_filename_component(weights "${ARG_WEIGHTS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --weights "${weights}")
    list(APPEND deps "${weights}")
  endif()
  list(APPEND args ${ARG_OPTIONS})

  file(MAKE_DIRECTORY "${dir}")
  add_custom_command(
    OUTPUT "${obj}" "${hdr}"
    COMMAND sinter::command ${args}
    DEPENDS ${deps} "$<TARGET_FILE:sinter::command>"
    COMMENT "sinter: compiling model ${name} (${model})"
    VERBATIM)
  set_source_files_properties("${obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  target_sources(${target} PRIVATE "${obj}" "${hdr}")
  target_include_directories(${target} PRIVATE "${dir}")
  target_link_libraries(${target} PRIVATE sinter::runtime)
endfunction()
