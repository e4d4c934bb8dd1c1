import os
seen = []
for path in ("/dev/planted", "/dev/null2"):
    try:
        with open(path, "w") as f:
            f.write("x")
        seen.append(path)
    except OSError as exc:
        print(path, exc)
try:
    os.mkdir("/dev/dir")
    seen.append("/dev/dir")
except OSError as exc:
    print(exc)
with open("/dev/shm/allowed", "w") as f:      # its own tmpfs stays writable
    f.write("x")
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
