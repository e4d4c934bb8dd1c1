# mutant: attach registers a new hook without removing the old one, so attaching twice records every output twice
# cell: class OutputRecorder:
# loses: q8
class OutputRecorder:
    def __init__(self):
        self.outputs = []
        self.handle = None

    def attach(self, module):
        def hook(module, args, output):
            self.outputs.append(output.detach())

        self.handle = module.register_forward_hook(hook)

    def remove(self):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
