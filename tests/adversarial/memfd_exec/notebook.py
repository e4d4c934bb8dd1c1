import ctypes, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
seen = []
fd = libc.memfd_create(b"payload", 0)               # executable by default
if fd >= 0:
    with open("/usr/bin/true", "rb") as f:
        os.write(fd, f.read())
    for how in ("execve /proc/self/fd", "execveat"):
        try:
            path = f"/proc/self/fd/{fd}"
            r = subprocess.run([path], pass_fds=(fd,), timeout=5) if how.startswith("execve ") else \
                subprocess.run(["python3", "-c", f"import os; os.execve({fd}, [\"x\"], {{}})"],
                               pass_fds=(fd,), timeout=5)
            if r.returncode == 0:
                seen.append(how)
        except OSError as exc:
            print(how, exc)
print("memfd:", fd, seen)
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
