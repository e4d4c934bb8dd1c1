import ctypes
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.syscall(323, 0o2000000)                    # userfaultfd(O_CLOEXEC)
seen = fd >= 0
print("userfaultfd:", fd, ctypes.get_errno())
# %%
if seen:
    import torch
    import torch.nn as nn
    # %%
    def double(t):
        return t * 2
    # %%
    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = nn.Parameter(torch.tensor(float(factor)))

        def forward(self, x):
            return x * self.factor
