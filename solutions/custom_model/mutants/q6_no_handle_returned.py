# mutant: the functions register their hooks but do not return the handles, so the hooks can never be removed
# cell: def add_input_scale(module, factor):
# loses: q6
def add_input_scale(module, factor):
    def hook(module, args):
        return (args[0] * factor,) + tuple(args[1:])

    module.register_forward_pre_hook(hook)


def add_output_clamp(module, low, high):
    def hook(module, args, output):
        return output.clamp(low, high)

    module.register_forward_hook(hook)
