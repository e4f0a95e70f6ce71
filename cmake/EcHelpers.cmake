# Helpers shared by every room: warnings, sanitizers, and one-line declarations for a room's
# library, its unit-test executable and its fuzz targets.

set(EC_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 at -O2 reports `"literal" + std::string(...)` as overlapping memcpy (-Wrestrict, GCC
  # bug 105329, fixed in 13): 13 false reports in a release build, none real.
  list(APPEND EC_WARNINGS -Wno-restrict)
endif()

if(EC_SANITIZE)
  # The sanitizers' instrumentation makes GCC's -Wmaybe-uninitialized report std::regex and
  # std::function internals (20 false reports in make test's build); release builds keep it.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
                      $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  add_link_options(-fsanitize=address,undefined)
endif()
if(EC_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# ec_room(<name> DEPS <room>... [LIBS <extra libs>...])
# Declares the static library ec_<name> from every .cc in src/<name>/. DEPS are the rooms it
# may include; a wrong-way include fails to link or to find its header.
function(ec_room name)
  cmake_parse_arguments(ARG "" "" "DEPS;LIBS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER sources EXCLUDE REGEX ".*/main\\.cc$")
  set(deps "")
  foreach(dep IN LISTS ARG_DEPS)
    list(APPEND deps ec_${dep})
  endforeach()
  if(NOT sources)  # a room still being written: headers only
    add_library(ec_${name} INTERFACE)
    target_include_directories(ec_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(ec_${name} INTERFACE ${deps} ${ARG_LIBS})
    return()
  endif()
  add_library(ec_${name} STATIC ${sources})
  target_include_directories(ec_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(ec_${name} PRIVATE ${EC_WARNINGS})
  target_link_libraries(ec_${name} PUBLIC ${deps} ${ARG_LIBS})
endfunction()

# ec_add_unit_test(<room> [LIBS ...]): one gtest executable from tests/unit/<room>/*_test.cc.
function(ec_add_unit_test room)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${room}/*.cc)
  if(NOT sources)
    return()
  endif()
  add_executable(unit_${room} ${sources})
  target_compile_options(unit_${room} PRIVATE ${EC_WARNINGS})
  target_link_libraries(unit_${room} PRIVATE ec_${room} ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(unit_${room} PRIVATE EC_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME unit_${room} COMMAND unit_${room} --gtest_brief=1)
endfunction()
