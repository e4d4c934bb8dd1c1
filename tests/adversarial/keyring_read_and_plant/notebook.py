import ctypes, os
# the test puts a key named torchgrader-canary in the grader's session keyring; this submission
# also leaves a key behind, which keyring_see_planted (graded later) looks for
libc = ctypes.CDLL(None, use_errno=True)
ADD_KEY, KEYCTL = 248, 250
KEYCTL_READ, KEYCTL_SEARCH = 11, 10
SESSION, USER, USER_SESSION = -3, -4, -5
seen = []
for ring in (SESSION, USER, USER_SESSION):
    key = libc.syscall(KEYCTL, KEYCTL_SEARCH, ring, b"user", b"torchgrader-canary", 0)
    if key > 0:
        buf = ctypes.create_string_buffer(256)
        n = libc.syscall(KEYCTL, KEYCTL_READ, key, buf, 256)
        seen.append(("read", ring, buf.raw[:max(n, 0)]))
try:
    if "torchgrader-canary" in open("/proc/keys").read():
        seen.append("/proc/keys lists the canary")
except OSError:
    pass
for ring in (SESSION, USER, USER_SESSION):
    if libc.syscall(ADD_KEY, b"user", b"planted-by-a-submission", b"x", 1, ring) > 0:
        seen.append(("planted", ring))
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
