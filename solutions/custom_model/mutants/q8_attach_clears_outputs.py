# mutant: attach starts a new list of outputs, so what was recorded before attaching elsewhere is lost
# cell: class OutputRecorder:
# loses: q8
class OutputRecorder:
    def __init__(self):
        self.outputs = []
        self.handle = None

    def attach(self, module):
        self.remove()
        self.outputs = []

        def hook(module, args, output):
            self.outputs.append(output.detach())

        self.handle = module.register_forward_hook(hook)

    def remove(self):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
