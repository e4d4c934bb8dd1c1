# mutant: the forward hook is written as hook(module, output), but it is called with (module, args, output)
# cell: class OutputRecorder:
# loses: q8
class OutputRecorder:
    def __init__(self):
        self.outputs = []
        self.handle = None

    def attach(self, module):
        self.remove()

        def hook(module, output):
            self.outputs.append(output.detach())

        self.handle = module.register_forward_hook(hook)

    def remove(self):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
