import socket
connected = False
try:
    with socket.create_connection(("127.0.0.1", {{LISTEN_PORT}}), timeout=3) as s:
        s.sendall(b"hello from the sandbox")
        connected = True
except OSError as e:
    print("blocked:", e)
# %%
if connected:
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
