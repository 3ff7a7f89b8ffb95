// conjure._core: one init function per core area, one file each.
#pragma once
#include <pybind11/pybind11.h>

void init_errors(pybind11::module_& m);
void init_world(pybind11::module_& m);
void init_kernel(pybind11::module_& m);
void init_ops(pybind11::module_& m);
void init_versions(pybind11::module_& m);
void init_store(pybind11::module_& m);
void init_runtime(pybind11::module_& m);
void init_postgres(pybind11::module_& m);
