# mutant: the forward hook returns output.detach(), which replaces the module's output and cuts it off from autograd
# cell: class OutputRecorder:
# loses: q8
class OutputRecorder:
    def __init__(self):
        self.outputs = []
        self.handle = None

    def attach(self, module):
        self.remove()

        def hook(module, args, output):
            self.outputs.append(output.detach())
            return output.detach()

        self.handle = module.register_forward_hook(hook)

    def remove(self):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
