import os
# each file is under the largest-file limit (disk_mb, 256 MiB here); their total is not
chunk = b"\1" * (1 << 20)
written = 0
try:
    for i in range(40):
        with open(f"/workspace/fill{i}.bin", "wb") as f:
            for _ in range(16):
                f.write(chunk)
                written += 1
except OSError as exc:
    print("stopped:", exc)
seen = written > 600          # MiB: the whole 640 landed
print("MiB written:", written)
for i in range(40):
    try:
        os.remove(f"/workspace/fill{i}.bin")
    except OSError:
        pass
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
