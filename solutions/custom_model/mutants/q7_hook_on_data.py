# mutant: scale_grad registers the hook on param.data, which is detached and does not require grad
# cell: def record_grads(module, log):
# loses: q7
def record_grads(module, log):
    def hook(module, grad_input, grad_output):
        g_in, g_out = grad_input[0], grad_output[0]
        log.append((None if g_in is None else g_in.detach().clone(),
                    None if g_out is None else g_out.detach().clone()))

    return module.register_full_backward_hook(hook)


def scale_grad(param, factor):
    return param.data.register_hook(lambda grad: grad * factor)
