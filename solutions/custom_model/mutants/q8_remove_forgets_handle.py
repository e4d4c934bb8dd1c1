# mutant: remove() only sets self.handle to None without calling handle.remove(), so the hook keeps running
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

        self.handle = module.register_forward_hook(hook)

    def remove(self):
        self.handle = None
