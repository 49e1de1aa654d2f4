# Finds the system (Debian) packages laplex builds against. Nothing is fetched.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)

# OpenBLAS: Debian ships a pkg-config file; cblas.h lives under the openblas include dir.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3)
find_library(FFTW3F_OMP_LIB fftw3f_omp REQUIRED)

find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)
find_path(STB_INCLUDE_DIR stb_image.h PATHS /usr/include/stb REQUIRED)
find_package(MPI COMPONENTS CXX)
