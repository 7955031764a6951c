"""A pyACL program in the style of Huawei's samples (acl_net.py / the seed document).

Written against the ``acl`` API only, as it would run on real Ascend hardware: it checks
every return code, sizes buffers with get_*_size_by_index, copies inputs in with memcpy from
``bytes_to_ptr``, reads outputs back through pinned host memory and ``ptr_to_bytes``, and
releases everything in the documented order.
"""

import numpy as np

import acl

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
DTYPES = {0: np.float32, 1: np.float16, 2: np.int8, 3: np.int32, 4: np.uint8, 6: np.int16,
          7: np.uint16, 8: np.uint32, 9: np.int64, 10: np.uint64, 11: np.float64, 12: np.bool_}


def check(ret, what):
    if ret != ACL_SUCCESS:
        raise RuntimeError(f"{what} failed, ret={ret}: {acl.get_recent_err_msg()}")


class SampleNet:
    def __init__(self, model_path, device_id=0):
        self.device_id = device_id
        check(acl.init(), "acl.init")
        check(acl.rt.set_device(device_id), "set_device")
        self.context, ret = acl.rt.create_context(device_id)
        check(ret, "create_context")
        self.stream, ret = acl.rt.create_stream()
        check(ret, "create_stream")
        self.model_id, ret = acl.mdl.load_from_file(model_path)
        check(ret, "load_from_file")
        self.model_desc = acl.mdl.create_desc()
        check(acl.mdl.get_desc(self.model_desc, self.model_id), "get_desc")
        self.input_data, self.load_input_dataset = self._dataset(acl.mdl.get_num_inputs,
                                                                 acl.mdl.get_input_size_by_index)
        self.output_data, self.load_output_dataset = self._dataset(
            acl.mdl.get_num_outputs, acl.mdl.get_output_size_by_index)

    def _dataset(self, count_of, size_of):
        dataset = acl.mdl.create_dataset()
        data = []
        for i in range(count_of(self.model_desc)):
            buffer_size = size_of(self.model_desc, i)
            buffer, ret = acl.rt.malloc(buffer_size, ACL_MEM_MALLOC_HUGE_FIRST)
            check(ret, "malloc")
            data_buffer = acl.create_data_buffer(buffer, buffer_size)
            _, ret = acl.mdl.add_dataset_buffer(dataset, data_buffer)
            check(ret, "add_dataset_buffer")
            data.append({"buffer": buffer, "size": buffer_size})
        return data, dataset

    def run(self, arrays):
        for item, array in zip(self.input_data, arrays):
            bytes_data = np.ascontiguousarray(array).tobytes()
            ptr = acl.util.bytes_to_ptr(bytes_data)
            check(acl.rt.memcpy(item["buffer"], item["size"], ptr, len(bytes_data),
                                ACL_MEMCPY_HOST_TO_DEVICE), "memcpy H2D")
        check(acl.mdl.execute(self.model_id, self.load_input_dataset, self.load_output_dataset),
              "execute")
        results = []
        for i, item in enumerate(self.output_data):
            buffer_host, ret = acl.rt.malloc_host(item["size"])
            check(ret, "malloc_host")
            check(acl.rt.memcpy(buffer_host, item["size"], item["buffer"], item["size"],
                                ACL_MEMCPY_DEVICE_TO_HOST), "memcpy D2H")
            bytes_out = acl.util.ptr_to_bytes(buffer_host, item["size"])
            check(acl.rt.free_host(buffer_host), "free_host")
            dims, ret = acl.mdl.get_cur_output_dims(self.model_desc, i)
            check(ret, "get_cur_output_dims")
            dtype = DTYPES[acl.mdl.get_output_data_type(self.model_desc, i)]
            count = int(np.prod(dims["dims"]))
            results.append(np.frombuffer(bytes_out, dtype, count).reshape(dims["dims"]))
        return results

    def release(self):
        for data, dataset in ((self.input_data, self.load_input_dataset),
                              (self.output_data, self.load_output_dataset)):
            while data:
                check(acl.rt.free(data.pop()["buffer"]), "free")
            for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
                data_buf = acl.mdl.get_dataset_buffer(dataset, i)
                if data_buf:
                    check(acl.destroy_data_buffer(data_buf), "destroy_data_buffer")
            check(acl.mdl.destroy_dataset(dataset), "destroy_dataset")
        check(acl.mdl.unload(self.model_id), "unload")
        check(acl.mdl.destroy_desc(self.model_desc), "destroy_desc")
        check(acl.rt.destroy_stream(self.stream), "destroy_stream")
        check(acl.rt.destroy_context(self.context), "destroy_context")
        check(acl.rt.reset_device(self.device_id), "reset_device")
        check(acl.finalize(), "finalize")
