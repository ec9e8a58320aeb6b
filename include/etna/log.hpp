// Logging in one include (namespace etna::logging): the native TensorBoard event-file writer
// (SummaryWriter), the pieces it is built from (TFRecord framing, CRC32C, protobuf encoding, PNG,
// histograms) and the SVG training plots.
#pragma once

#include "etna/log/crc32c.hpp"
#include "etna/log/event.hpp"
#include "etna/log/histogram.hpp"
#include "etna/log/line_plot.hpp"
#include "etna/log/plot.hpp"
#include "etna/log/png.hpp"
#include "etna/log/protobuf.hpp"
#include "etna/log/record_writer.hpp"
#include "etna/log/summary_writer.hpp"
