/* The compiled scanning core of gpc_middleware's tokenizer (see accel.py). Placeholder. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "The compiled scanning core (see accel.py).", -1, NULL,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&scan_module); }
