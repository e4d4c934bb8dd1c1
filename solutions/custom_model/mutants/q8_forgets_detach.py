# mutant: the forward hook records output itself instead of output.detach(), so every recorded output keeps the autograd graph
# cell: class OutputRecorder:
# loses: q8
class OutputRecorder:
    def __init__(self):
        self.outputs = []
        self.handle = None

    def attach(self, module):
        self.remove()

        def hook(module, args, output):
            self.outputs.append(output)

        self.handle = module.register_forward_hook(hook)

    def remove(self):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
