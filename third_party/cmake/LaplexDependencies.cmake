# Finds the system (Debian) packages laplex builds against. Nothing is fetched.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)

# OpenBLAS, the OpenMP build (Debian's libopenblas-openmp-dev): laplex's own
# loops use OpenMP, and the pthreads build's threads then fight OpenMP's
# spinning workers for the cores (an MLP step ran 1.6x slower on 2 cores).
# Linked by path, so the build's RPATH picks this variant whatever the
# system-wide alternative is.
find_library(OPENBLAS_OPENMP_LIB openblas
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
find_path(OPENBLAS_OPENMP_INCLUDE cblas.h
  PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
if(OPENBLAS_OPENMP_LIB AND OPENBLAS_OPENMP_INCLUDE)
  add_library(laplex_openblas INTERFACE)
  target_link_libraries(laplex_openblas INTERFACE ${OPENBLAS_OPENMP_LIB})
  target_include_directories(laplex_openblas INTERFACE ${OPENBLAS_OPENMP_INCLUDE})
else()
  message(WARNING "OpenMP OpenBLAS not found (install libopenblas-openmp-dev); "
                  "falling back to the default OpenBLAS")
  pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
  add_library(laplex_openblas INTERFACE)
  target_link_libraries(laplex_openblas INTERFACE PkgConfig::OPENBLAS)
endif()
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3)
find_library(FFTW3F_OMP_LIB fftw3f_omp REQUIRED)

find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)
find_path(STB_INCLUDE_DIR stb_image.h PATHS /usr/include/stb REQUIRED)
find_package(CLI11 REQUIRED)
find_package(MPI COMPONENTS CXX)
