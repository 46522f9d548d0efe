# Runtimes for cross targets (included by CMakeLists.txt): for each GNU triple of
# SINTER_CROSS_TARGETS whose cross compiler TRIPLE-gcc (and TRIPLE-ar) is found, the runtime
# sources are compiled with it into BUILD/sinter-rt/TRIPLE/libsinter_rt.a, installed as
# lib/sinter-rt/TRIPLE/libsinter_rt.a. `sinter compile --target TRIPLE -o LIB.so` links with it
# (codegen/link.c). Debian: gcc-aarch64-linux-gnu, gcc-riscv64-linux-gnu.
set(SINTER_CROSS_TARGETS "aarch64-linux-gnu;riscv64-linux-gnu" CACHE STRING
    "GNU triples to build the runtime for when their cross compiler is installed")
if(SINTER_SANITIZE OR SINTER_FUZZ)
  return()   # those builds test the host only
endif()
# the host's warnings (generator expressions aside: these compilers are gcc)
set(SINTER_CROSS_WARN ${SINTER_WARN})
list(FILTER SINTER_CROSS_WARN EXCLUDE REGEX "^\\$<")
list(APPEND SINTER_CROSS_WARN -Wno-format-truncation)
file(GLOB SINTER_RT_HEADERS ${PROJECT_SOURCE_DIR}/runtime/*.h)
set(SINTER_CROSS_FOUND "")
foreach(tool ${SINTER_CROSS_TARGETS})
  find_program(SINTER_CROSS_CC_${tool} ${tool}-gcc)
  find_program(SINTER_CROSS_AR_${tool} ${tool}-ar)
  if(NOT SINTER_CROSS_CC_${tool} OR NOT SINTER_CROSS_AR_${tool})
    continue()
  endif()
  set(dir ${PROJECT_BINARY_DIR}/sinter-rt/${tool})
  set(objs "")
  foreach(src ${SINTER_RT_SRC})
    get_filename_component(base ${src} NAME_WE)
    set(obj ${dir}/obj/${base}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}/obj
      COMMAND ${SINTER_CROSS_CC_${tool}} -std=c11 -O2 -g -fPIC -fvisibility=hidden -fopenmp
              -D_POSIX_C_SOURCE=200809L ${SINTER_CROSS_WARN} -I${PROJECT_SOURCE_DIR} -c ${src} -o ${obj}
      DEPENDS ${src} ${SINTER_RT_HEADERS}
      COMMENT "runtime for ${tool}: ${base}.c" VERBATIM)
    list(APPEND objs ${obj})
  endforeach()
  add_custom_command(OUTPUT ${dir}/libsinter_rt.a
    COMMAND ${CMAKE_COMMAND} -E rm -f ${dir}/libsinter_rt.a
    COMMAND ${SINTER_CROSS_AR_${tool}} rcs ${dir}/libsinter_rt.a ${objs}
    DEPENDS ${objs} COMMENT "runtime for ${tool}: libsinter_rt.a" VERBATIM)
  add_custom_target(sinter_rt_${tool} ALL DEPENDS ${dir}/libsinter_rt.a)
  install(FILES ${dir}/libsinter_rt.a DESTINATION ${CMAKE_INSTALL_LIBDIR}/sinter-rt/${tool})
  list(APPEND SINTER_CROSS_FOUND ${tool})
endforeach()
message(STATUS "sinter: runtimes for cross targets: ${SINTER_CROSS_FOUND}")
