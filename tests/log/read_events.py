"""Reads every run (folder holding event files) under a directory with TensorBoard's own
EventAccumulator and prints what it found as JSON, for tests/log/tensorboard_reader_test.cpp.

usage: read_events.py LOG_DIR
"""
import json
import os
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.util import tensor_util

ALL = {k: 0 for k in ("scalars", "histograms", "images", "tensors", "compressedHistograms", "audio")}


def read_run(path):
    acc = event_accumulator.EventAccumulator(path, size_guidance=ALL)
    acc.Reload()
    tags = acc.Tags()
    run = {"scalars": {}, "histograms": {}, "images": {}, "texts": {}}
    for tag in tags["scalars"]:
        run["scalars"][tag] = [[e.step, e.value] for e in acc.Scalars(tag)]
    for tag in tags["histograms"]:
        run["histograms"][tag] = [{"step": e.step, "min": e.histogram_value.min,
                                   "max": e.histogram_value.max, "num": e.histogram_value.num,
                                   "sum": e.histogram_value.sum,
                                   "bucket_limit": list(e.histogram_value.bucket_limit),
                                   "bucket": list(e.histogram_value.bucket)}
                                  for e in acc.Histograms(tag)]
    for tag in tags["images"]:
        run["images"][tag] = [{"step": e.step, "width": e.width, "height": e.height,
                               "png": e.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"}
                              for e in acc.Images(tag)]
    for tag in tags["tensors"]:
        run["texts"][tag] = [[e.step, tensor_util.make_ndarray(e.tensor_proto).reshape(-1)[0].decode()]
                             for e in acc.Tensors(tag)]
    try:
        contents = acc.PluginTagToContent("hparams")
    except KeyError:
        contents = {}
    if contents:
        hp = {"tags": sorted(contents)}
        for tag, content in contents.items():
            data = plugin_data_pb2.HParamsPluginData.FromString(content)
            kind = data.WhichOneof("data")
            if kind == "experiment":
                hp["hparam_types"] = {i.name: int(i.type) for i in data.experiment.hparam_infos}
                hp["metrics"] = [m.name.tag for m in data.experiment.metric_infos]
            elif kind == "session_start_info":
                values = {}
                for name, v in data.session_start_info.hparams.items():
                    values[name] = getattr(v, v.WhichOneof("kind"))
                hp["values"] = values
            elif kind == "session_end_info":
                hp["status"] = int(data.session_end_info.status)
        run["hparams"] = hp
    return run


def main():
    root = sys.argv[1]
    runs = {}
    for folder, _, files in os.walk(root):
        if any(f.startswith("events.out.tfevents.") for f in files):
            rel = os.path.relpath(folder, root)
            runs[rel] = read_run(folder)
    json.dump(runs, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
