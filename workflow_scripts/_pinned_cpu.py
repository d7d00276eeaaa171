"""Pin PyTorch's CPU dispatch before torch is imported (neuropathx.cpu_dispatch).

Import it right after ``_neuropathx_path`` in every script that trains or runs a model, so
that the job gives the same bits on every x86-64 machine of a cluster. ``_neuropathx_path``
already pins in every job (PyTorch, MKL and OpenBLAS); this import keeps the requirement
visible where torch is used, and fails loudly if torch was imported first.
"""

from neuropathx.cpu_dispatch import pin_cpu_dispatch

pin_cpu_dispatch()
