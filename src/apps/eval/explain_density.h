#pragma once
// laplex-eval --explain for covariance checkpoints: the pictures that show
// whether a density model learned spatial structure without convolutions.
//   samples.png          8 draws from the model, as images
//   mean.png             mu
//   t.png, d.png         laplex_ou: the anchors t and the scales d = softplus(raw) on the
//                        image grid (one colour-mapped panel per channel); started from a
//                        random order, t shows the image layout if it was learned
//   chain_layout.json    laplex_ou: how many links between consecutive sorted anchors join
//                        pixels that touch on the grid (ou_chain_layout.h)
//   links.png            laplex_ou: exp(-alpha (t_next - t_i)), each pixel's coupling to the
//                        next anchor in sorted order: where the learned chain holds or breaks
//   cov_row_<p>.png      laplex_ou: Sigma e_p (the covariance of pixel p with every pixel,
//                        through the fast operator) for a few pixels p
// Large images are shrunk (box average) to about 256 pixels a side per panel.
#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"
#include "layers/module.h"

namespace laplex::eval {

// `example` is one example's shape, (C, H, W) or (n). The model must be a
// DensityModel on the CPU. Returns the paths written.
std::vector<std::string> explain_density_model(Module& model, const Shape& example,
                                               std::uint64_t seed, const std::string& out_dir);

}  // namespace laplex::eval
