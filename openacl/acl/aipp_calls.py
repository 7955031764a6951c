"""pyACL ``acl.mdl`` AIPP calls (spec section 5.6): handles in, core calls, nothing else."""

from __future__ import annotations

from openacl.acl.build import implements
from openacl.acl.model_calls import _dataset
from openacl.model import aipp_query
from openacl.model.aipp_dynamic import DynamicAipp, data_size
from openacl.model.model import MODELS
from openacl.runtime.handles import handles


def _aipp(handle) -> DynamicAipp:
    return handles.get(handle, DynamicAipp, "AIPP parameter set")


@implements("mdl.get_aipp_type")
def get_aipp_type(model_id, index):
    return aipp_query.aipp_type(MODELS.get(model_id), index)


@implements("mdl.get_first_aipp_info")
def get_first_aipp_info(model_id, index):
    return aipp_query.first_info(MODELS.get(model_id), index)


@implements("mdl.get_aipp_data_size")
def get_aipp_data_size(batch_size):
    return data_size(batch_size)


@implements("mdl.create_aipp")
def create_aipp(batch_size):
    if batch_size == 0:
        return 0                      # ACL returns NULL for a batch of 0
    return handles.register(DynamicAipp(batch_size))


@implements("mdl.destroy_aipp")
def destroy_aipp(aipp):
    handles.remove(_aipp(aipp).handle)


@implements("mdl.set_aipp_input_format")
def set_aipp_input_format(aipp, input_format):
    _aipp(aipp).set_input_format(input_format)


@implements("mdl.set_aipp_csc_params")
def set_aipp_csc_params(aipp, csc_switch, r0c0, r0c1, r0c2, r1c0, r1c1, r1c2, r2c0, r2c1, r2c2,
                        out_bias0, out_bias1, out_bias2, in_bias0, in_bias1, in_bias2):
    _aipp(aipp).set_csc(csc_switch, [r0c0, r0c1, r0c2, r1c0, r1c1, r1c2, r2c0, r2c1, r2c2],
                        [out_bias0, out_bias1, out_bias2], [in_bias0, in_bias1, in_bias2])


@implements("mdl.set_aipp_rbuv_swap_switch")
def set_aipp_rbuv_swap_switch(aipp, switch):
    _aipp(aipp).set_rbuv_swap(switch)


@implements("mdl.set_aipp_ax_swap_switch")
def set_aipp_ax_swap_switch(aipp, switch):
    _aipp(aipp).set_ax_swap(switch)


@implements("mdl.set_aipp_src_image_size")
def set_aipp_src_image_size(aipp, width, height):
    _aipp(aipp).set_src_image_size(width, height)


@implements("mdl.set_aipp_crop_params")
def set_aipp_crop_params(aipp, switch, start_w, start_h, crop_w, crop_h, batch_index):
    _aipp(aipp).set_crop(switch, start_w, start_h, crop_w, crop_h, batch_index)


@implements("mdl.set_aipp_padding_params")
def set_aipp_padding_params(aipp, switch, top, bottom, left, right, batch_index):
    _aipp(aipp).set_padding(switch, top, bottom, left, right, batch_index)


@implements("mdl.set_aipp_dtc_pixel_mean")
def set_aipp_dtc_pixel_mean(aipp, mean0, mean1, mean2, mean3, batch_index):
    _aipp(aipp).set_mean([mean0, mean1, mean2, mean3], batch_index)


@implements("mdl.set_aipp_dtc_pixel_min")
def set_aipp_dtc_pixel_min(aipp, min0, min1, min2, min3, batch_index):
    _aipp(aipp).set_min([min0, min1, min2, min3], batch_index)


@implements("mdl.set_aipp_pixel_var_reci")
def set_aipp_pixel_var_reci(aipp, var0, var1, var2, var3, batch_index):
    _aipp(aipp).set_var_reci([var0, var1, var2, var3], batch_index)


@implements("mdl.set_aipp_scf_params")
def set_aipp_scf_params(aipp, switch, in_w, in_h, out_w, out_h, batch_index):
    _aipp(aipp).set_scf(switch, in_w, in_h, out_w, out_h, batch_index)


@implements("mdl.set_input_aipp")
def set_input_aipp(model_id, dataset, index, aipp):
    aipp_query.set_input_aipp(MODELS.get(model_id), _dataset(dataset), index, _aipp(aipp))


@implements("mdl.set_aipp_by_input_index")
def set_aipp_by_input_index(model_id, dataset, index, aipp):
    aipp_query.set_by_input_index(MODELS.get(model_id), _dataset(dataset), index, _aipp(aipp))
