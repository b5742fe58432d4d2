"""Hot loops: private Numba CPU kernels on plain arrays, with ``numba.cuda`` twins behind one call.

Conventions (see ``docs/ARCHITECTURE.md``, *Kernels*):

- every CPU kernel is decorated with :func:`neurosig.kernels._numba.njit` (``cache=True, nogil=True``);
- a CUDA twin has the same signature and is chosen when the input lives on the GPU
  (:func:`neurosig.kernels._numba.on_gpu`); CI tests twins under ``NUMBA_ENABLE_CUDASIM=1``;
- the public function beside each kernel validates and converts its inputs; kernels trust them;
- every kernel has a slow, obviously correct twin in ``tests/`` that it is compared with.
"""
