import sys
import numpy as np
import acl
from importlib import resources
acl.init(); acl.rt.set_device(0); ctx, _ = acl.rt.create_context(0)
stream, _ = acl.rt.create_stream()
model_id, _ = acl.mdl.load_from_file(str(resources.files("openacl.assets") / "digits_cnn.onnx"))
desc = acl.mdl.create_desc(); acl.mdl.get_desc(desc, model_id)
ins, outs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
isz, osz = acl.mdl.get_input_size_by_index(desc, 0), acl.mdl.get_output_size_by_index(desc, 0)
ip, _ = acl.rt.malloc(isz, 0); op, _ = acl.rt.malloc(osz, 0)
acl.mdl.add_dataset_buffer(ins, acl.create_data_buffer(ip, isz)); acl.mdl.add_dataset_buffer(outs, acl.create_data_buffer(op, osz))
x = np.ones(isz // 4, np.float32); y = np.empty(osz // 4, np.float32)
for i in range(int(sys.argv[1])):
    acl.rt.memcpy_async(ip, isz, x.ctypes.data, isz, 1, stream)
    acl.mdl.execute_async(model_id, ins, outs, stream)
    acl.rt.memcpy_async(y.ctypes.data, osz, op, osz, 2, stream)
    acl.rt.synchronize_stream(stream)
print("class", int(y.argmax()))
for d in (ins, outs):
    acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(d, 0)); acl.mdl.destroy_dataset(d)
acl.rt.free(ip); acl.rt.free(op); acl.mdl.unload(model_id); acl.mdl.destroy_desc(desc)
acl.rt.destroy_stream(stream); acl.rt.destroy_context(ctx); acl.rt.reset_device(0); acl.finalize()
