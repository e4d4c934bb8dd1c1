# mutant: the full backward hook is written as hook(module, grad_output), but it is called with (module, grad_input, grad_output)
# cell: def record_grads(module, log):
# loses: q7
def record_grads(module, log):
    def hook(module, grad_output):
        log.append((None, grad_output[0].detach().clone()))

    return module.register_full_backward_hook(hook)


def scale_grad(param, factor):
    return param.register_hook(lambda grad: grad * factor)
