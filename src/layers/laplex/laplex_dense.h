#pragma once
// W (m, n) materialised from its anchors (laplex-math.md section 1): for
// tests, inspection and pictures at small sizes. O(H m n) time.
#include "layers/laplex/laplex_shape.h"

namespace laplex::cpu {

template <class T>
void laplex_to_dense(const LaplexShape& shape, const LaplexParamPtrs<T>& params, T* w);

}  // namespace laplex::cpu
