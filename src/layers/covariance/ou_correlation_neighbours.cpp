#include "layers/covariance/ou_correlation_neighbours.h"

#include <algorithm>
#include <bit>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/random.h"

namespace laplex {

namespace {

// width is a multiple of 8 (OuPoints pads it): eight running sums are one
// vector register, where a single sum would keep the loop scalar (the
// compiler may not reorder float additions). Most of the neighbour search's
// time goes to dot products and to waiting for the points they read. The
// sums are fused multiply-adds in order of the rows, then added up as in
// reduce_lanes, so the blocks of dot products below give the same bits.
float reduce_lanes(const float* lanes) {
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) +
         ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

float dot(const float* a, const float* b, std::int64_t width) {
  float lanes[8];
#if defined(__AVX2__) && defined(__FMA__)
  __m256 sum = _mm256_setzero_ps();
  for (std::int64_t r = 0; r < width; r += 8)
    sum = _mm256_fmadd_ps(_mm256_loadu_ps(a + r), _mm256_loadu_ps(b + r), sum);
  _mm256_storeu_ps(lanes, sum);
#else
  for (float& lane : lanes) lane = 0;
  for (std::int64_t r = 0; r < width; r += 8)
    for (int l = 0; l < 8; ++l) lanes[l] += a[r + l] * b[r + l];
#endif
  return reduce_lanes(lanes);
}

// The dot products of points a0 and a1 with b[0..3], into out0[j] and
// out1[j]: each loaded vector serves four (or two) products, where one
// product at a time loads two vectors for each multiply-add.
void dot_block_2x4(const float* a0, const float* a1, const float* const* b, std::int64_t width,
                   float* out0, float* out1) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 s0[4], s1[4];
  for (int j = 0; j < 4; ++j) s0[j] = s1[j] = _mm256_setzero_ps();
  for (std::int64_t r = 0; r < width; r += 8) {
    const __m256 x0 = _mm256_loadu_ps(a0 + r), x1 = _mm256_loadu_ps(a1 + r);
    for (int j = 0; j < 4; ++j) {
      const __m256 y = _mm256_loadu_ps(b[j] + r);
      s0[j] = _mm256_fmadd_ps(x0, y, s0[j]);
      s1[j] = _mm256_fmadd_ps(x1, y, s1[j]);
    }
  }
  float lanes[8];
  for (int j = 0; j < 4; ++j) {
    _mm256_storeu_ps(lanes, s0[j]);
    out0[j] = reduce_lanes(lanes);
    _mm256_storeu_ps(lanes, s1[j]);
    out1[j] = reduce_lanes(lanes);
  }
#else
  for (int j = 0; j < 4; ++j) {
    out0[j] = dot(a0, b[j], width);
    out1[j] = dot(a1, b[j], width);
  }
#endif
}

// dot(a, b[j]) for j < 4 into out[j]: a's vectors are loaded once for the
// four products.
void dot_block_1x4(const float* a, const float* const* b, std::int64_t width, float* out) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 sum[4];
  for (int j = 0; j < 4; ++j) sum[j] = _mm256_setzero_ps();
  for (std::int64_t r = 0; r < width; r += 8) {
    const __m256 x = _mm256_loadu_ps(a + r);
    for (int j = 0; j < 4; ++j) sum[j] = _mm256_fmadd_ps(x, _mm256_loadu_ps(b[j] + r), sum[j]);
  }
  float lanes[8];
  for (int j = 0; j < 4; ++j) {
    _mm256_storeu_ps(lanes, sum[j]);
    out[j] = reduce_lanes(lanes);
  }
#else
  for (int j = 0; j < 4; ++j) out[j] = dot(a, b[j], width);
#endif
}

// gram[p * size + q] = dot(point p, point q) for p < q, in blocks of two
// rows by four columns.
void leaf_gram(const float* const* point, std::int64_t size, std::int64_t width, float* gram) {
  for (std::int64_t p = 0; p + 1 < size; p += 2) {
    gram[p * size + p + 1] = dot(point[p], point[p + 1], width);
    std::int64_t q = p + 2;
    for (; q + 4 <= size; q += 4)
      dot_block_2x4(point[p], point[p + 1], point + q, width, gram + p * size + q,
                    gram + (p + 1) * size + q);
    for (; q < size; ++q) {
      gram[p * size + q] = dot(point[p], point[q], width);
      gram[(p + 1) * size + q] = dot(point[p + 1], point[q], width);
    }
  }
}

// Keeps row i's list sorted, best first, without repeats.
void offer(OuNeighbours& nb, std::int64_t i, std::int32_t j, float c) {
  std::int32_t* index = nb.index.data() + i * nb.k;
  float* corr = nb.correlation.data() + i * nb.k;
  if (!(c > corr[nb.k - 1])) return;
  for (int s = 0; s < nb.k; ++s)
    if (index[s] == j) return;
  int s = nb.k - 1;
  while (s > 0 && corr[s - 1] < c) {
    corr[s] = corr[s - 1];
    index[s] = index[s - 1];
    --s;
  }
  corr[s] = c;
  index[s] = j;
}

OuNeighbours empty_lists(std::int64_t n, int k) {
  OuNeighbours nb;
  nb.n = n;
  nb.k = k;
  nb.index.assign(static_cast<std::size_t>(n * k), -1);
  nb.correlation.assign(static_cast<std::size_t>(n * k), -std::numeric_limits<float>::infinity());
  return nb;
}

// Points below which a pass runs on one thread: every level of every tree
// is a parallel region, and on a busy machine each region waits a scheduler
// tick for a descheduled thread (the search of 784 pixels took 1.5 s
// instead of a tenth of that).
constexpr std::int64_t kParallelPoints = std::int64_t{1} << 15;

// The points a loop reads are scattered in memory, and a dot product waits
// for its point's cache lines: the loops ask for the point this many
// iterations ahead.
constexpr std::int64_t kPrefetchAhead = 8;

void prefetch_point(const OuPoints& points, std::int32_t id) {
  const char* p = reinterpret_cast<const char*>(points.point(id));
  const std::int64_t bytes = points.width * static_cast<std::int64_t>(sizeof(float));
  for (std::int64_t line = 0; line < bytes; line += 64) __builtin_prefetch(p + line);
}

struct Range {
  std::int64_t begin, end;
};

// One tree: splits ids (a permutation of the points) into leaves in place
// and returns their ranges. A split of a range depends only on the seed,
// the tree and the range, so the leaves do not depend on the thread count.
std::vector<Range> tree_leaves(const OuPoints& points, std::vector<std::int32_t>& ids,
                               std::uint64_t seed) {
  const std::int64_t n = points.n, width = points.width;
  std::vector<std::pair<float, std::int32_t>> keyed(static_cast<std::size_t>(n));
  std::vector<Range> leaves, level{{0, n}};
  while (!level.empty()) {
    std::vector<Range> next;
    std::vector<std::vector<Range>> split(level.size());
#pragma omp parallel for schedule(dynamic) if (n > kParallelPoints)
    for (std::int64_t r = 0; r < static_cast<std::int64_t>(level.size()); ++r) {
      const auto [begin, end] = level[r];
      const std::int64_t size = end - begin;
      if (size <= kOuNeighbourLeafSize) continue;
      // The line through two members: a random direction would mostly cut
      // across the directions the points spread along.
      std::uint64_t h = derive_seed(seed, static_cast<std::uint64_t>(begin));
      const std::int64_t a = begin + static_cast<std::int64_t>(h % size);
      h = derive_seed(h, 1);
      std::int64_t b = begin + static_cast<std::int64_t>(h % (size - 1));
      if (b >= a) ++b;
      const float* pa = points.point(ids[a]);
      const float* pb = points.point(ids[b]);
      std::vector<float> direction(width);
      for (std::int64_t c = 0; c < width; ++c) direction[c] = pa[c] - pb[c];
      for (std::int64_t p = begin; p < end; ++p) {
        if (p + kPrefetchAhead < end) prefetch_point(points, ids[p + kPrefetchAhead]);
        keyed[p] = {dot(points.point(ids[p]), direction.data(), width), ids[p]};
      }
      const std::int64_t mid = begin + size / 2;
      std::nth_element(keyed.begin() + begin, keyed.begin() + mid, keyed.begin() + end);
      for (std::int64_t p = begin; p < end; ++p) ids[p] = keyed[p].second;
      split[r] = {{begin, mid}, {mid, end}};
    }
    for (std::size_t r = 0; r < level.size(); ++r) {
      if (split[r].empty()) leaves.push_back(level[r]);
      for (const Range& child : split[r]) next.push_back(child);
    }
    level = std::move(next);
  }
  return leaves;
}

void compare_leaf_pairs(const OuPoints& points, const std::vector<std::int32_t>& ids,
                        const std::vector<Range>& leaves, OuNeighbours& nb) {
  // A point sits in one leaf of a tree, so leaves touch disjoint lists.
#pragma omp parallel if (points.n > kParallelPoints)
  {
    std::vector<const float*> point(kOuNeighbourLeafSize);
    std::vector<float> gram(kOuNeighbourLeafSize * kOuNeighbourLeafSize);
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t l = 0; l < static_cast<std::int64_t>(leaves.size()); ++l) {
      const auto [begin, end] = leaves[l];
      const std::int64_t size = end - begin;
      // Its points are scattered: all their lines are requested before the
      // first comparison waits for one.
      for (std::int64_t p = 0; p < size; ++p) {
        prefetch_point(points, ids[begin + p]);
        point[p] = points.point(ids[begin + p]);
      }
      leaf_gram(point.data(), size, points.width, gram.data());
      for (std::int64_t p = 0; p < size; ++p)
        for (std::int64_t q = p + 1; q < size; ++q) {
          const float c = gram[p * size + q];
          offer(nb, ids[begin + p], ids[begin + q], c);
          offer(nb, ids[begin + q], ids[begin + p], c);
        }
    }
  }
}

// The ids one point's round has seen (itself, its list, the candidates):
// open addressing with linear probing in a table at least twice the most
// ids a round inserts, cleared per point, so it stays in L1. Sorting the
// candidates to drop repeats, and searching the list for each, took more
// of a round than its dot products.
class SeenIds {
 public:
  explicit SeenIds(std::size_t most) : slots_(std::bit_ceil(2 * most), -1) {}
  void clear() { std::fill(slots_.begin(), slots_.end(), -1); }
  // True when id was not in the set (and is now).
  bool insert(std::int32_t id) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t at = (static_cast<std::uint32_t>(id) * 2654435761u) & mask;
    while (slots_[at] != -1) {
      if (slots_[at] == id) return false;
      at = (at + 1) & mask;
    }
    slots_[at] = id;
    return true;
  }

 private:
  std::vector<std::int32_t> slots_;
};

// Compares each point with its neighbours' neighbours, reading the lists
// as they were before the round (so the result does not depend on the order
// in which threads update them).
// Each candidate is compared once, and not at all when it is already in
// the list: a dot product reads a point from a random place in memory, and
// a pixel's neighbours share most of their own neighbours.
void refine(const OuPoints& points, const std::vector<std::int32_t>& visit, OuNeighbours& nb) {
  const OuNeighbours before = nb;
  const std::size_t most = static_cast<std::size_t>(nb.k) * (nb.k + 1) + 1;
#pragma omp parallel if (nb.n > kParallelPoints)
  {
    std::vector<std::int32_t> candidates;
    SeenIds seen(most);
#pragma omp for schedule(dynamic, 1024)
    for (std::int64_t v = 0; v < nb.n; ++v) {
      const std::int32_t i = visit[v];
      candidates.clear();
      seen.clear();
      seen.insert(i);
      const std::int32_t* known = before.of(i);
      for (int s = 0; s < nb.k && known[s] >= 0; ++s) seen.insert(known[s]);
      for (int s = 0; s < nb.k && known[s] >= 0; ++s) {
        const std::int32_t* theirs = before.of(known[s]);
        for (int u = 0; u < nb.k && theirs[u] >= 0; ++u)
          if (seen.insert(theirs[u])) candidates.push_back(theirs[u]);
      }
      // Four candidates at a time share the loads of i's point.
      const std::size_t count = candidates.size();
      for (std::size_t c = 0; c < count; c += 4) {
        for (std::size_t ahead = c + kPrefetchAhead; ahead < std::min(c + kPrefetchAhead + 4, count);
             ++ahead)
          prefetch_point(points, candidates[ahead]);
        const std::size_t block = std::min<std::size_t>(4, count - c);
        float correlation[4];
        if (block == 4) {
          const float* const four[4] = {points.point(candidates[c]), points.point(candidates[c + 1]),
                                        points.point(candidates[c + 2]),
                                        points.point(candidates[c + 3])};
          dot_block_1x4(points.point(i), four, points.width, correlation);
        } else {
          for (std::size_t j = 0; j < block; ++j)
            correlation[j] = dot(points.point(i), points.point(candidates[c + j]), points.width);
        }
        for (std::size_t j = 0; j < block; ++j) offer(nb, i, candidates[c + j], correlation[j]);
      }
    }
  }
}

// Wide points (many sample rows) split on a sketch: each point times a
// fixed Gaussian matrix to kSketchWidth values. A split only needs a
// direction the points spread along, and every level of every tree reads
// all n points in an order that defeats the caches, so that reading is
// where the trees' time goes (1.4 KB a point at 352 rows, 256 bytes in the
// sketch). The leaves still compare the exact points.
constexpr std::int64_t kSketchWidth = 64;

OuPoints sketch(const OuPoints& points, std::uint64_t seed) {
  Generator generator(seed);
  const std::vector<float> gauss =
      randn({points.width, kSketchWidth}, generator).to_vector<float>();
  OuPoints out;
  out.n = points.n;
  out.width = kSketchWidth;
  out.values.assign(static_cast<std::size_t>(points.n * kSketchWidth), 0.0f);
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < points.n; ++i) {
    const float* p = points.point(i);
    // The 64 sums stay in registers for the whole point (through q they
    // were stored and reloaded at every row).
    float sums[kSketchWidth] = {};
    for (std::int64_t r = 0; r < points.width; ++r) {
      const float* g = gauss.data() + r * kSketchWidth;
      for (std::int64_t c = 0; c < kSketchWidth; ++c) sums[c] += p[r] * g[c];
    }
    std::copy_n(sums, kSketchWidth, out.values.data() + i * kSketchWidth);
  }
  return out;
}

}  // namespace

float OuPoints::correlation(std::int64_t a, std::int64_t b) const {
  return dot(point(a), point(b), width);
}

OuPoints ou_points(const Tensor& sample) {
  if (sample.dim() != 2 || sample.size(0) < 2)
    throw UsageError("ou_points: the sample must be (rows >= 2, n), got " + shape_str(sample.shape()));
  const std::int64_t rows = sample.size(0), n = sample.size(1);
  if (n > std::numeric_limits<std::int32_t>::max())
    throw UsageError("ou_points: " + std::to_string(n) + " dimensions do not fit in int32 indices");
  const Tensor x = sample.to(Device::cpu()).to(DType::f32).contiguous();
  const float* v = x.data<float>();
  OuPoints points;
  points.n = n;
  points.width = (rows + 7) / 8 * 8;
  points.values.assign(static_cast<std::size_t>(n * points.width), 0.0f);
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    double mean = 0;
    for (std::int64_t r = 0; r < rows; ++r) mean += v[r * n + i];
    mean /= static_cast<double>(rows);
    double squares = 0;
    for (std::int64_t r = 0; r < rows; ++r) squares += (v[r * n + i] - mean) * (v[r * n + i] - mean);
    if (!(squares > 0)) continue;  // constant: correlates with nothing
    const double scale = 1.0 / std::sqrt(squares);
    float* p = points.values.data() + i * points.width;
    for (std::int64_t r = 0; r < rows; ++r) p[r] = static_cast<float>((v[r * n + i] - mean) * scale);
  }
  return points;
}

OuPoints ou_points_subset(const OuPoints& points, const std::vector<std::int32_t>& ids) {
  OuPoints subset;
  subset.n = static_cast<std::int64_t>(ids.size());
  subset.width = points.width;
  subset.values.resize(static_cast<std::size_t>(subset.n * subset.width));
  for (std::int64_t k = 0; k < subset.n; ++k)
    std::copy_n(points.point(ids[k]), points.width, subset.values.data() + k * subset.width);
  return subset;
}

OuNeighbours ou_correlation_neighbours(const OuPoints& points, const OuNeighbourOptions& options) {
  check(options.k >= 1 && options.trees >= 1 && options.refine_rounds >= 0,
        "ou_correlation_neighbours: k and trees must be >= 1, refine_rounds >= 0");
  OuNeighbours nb = empty_lists(points.n, options.k);
  if (points.n < 2) return nb;
  const bool wide = points.width > kSketchWidth;
  const OuPoints sketched = wide ? sketch(points, derive_seed(options.seed, 0x5E7C4ull)) : OuPoints{};
  const OuPoints& split_on = wide ? sketched : points;
  std::vector<std::int32_t> ids(static_cast<std::size_t>(points.n));
  for (int tree = 0; tree < options.trees; ++tree) {
    std::iota(ids.begin(), ids.end(), 0);
    const std::vector<Range> leaves =
        tree_leaves(split_on, ids, derive_seed(options.seed, static_cast<std::uint64_t>(tree)));
    compare_leaf_pairs(points, ids, leaves, nb);
  }
  // In the last tree's leaf order, consecutive points share most of their
  // neighbours, so the points a round reads are mostly still in cache.
  for (int round = 0; round < options.refine_rounds; ++round) refine(points, ids, nb);
  return nb;
}

OuNeighbours ou_correlation_neighbours_exact(const OuPoints& points, int k) {
  OuNeighbours nb = empty_lists(points.n, k);
#pragma omp parallel for schedule(dynamic, 64)
  for (std::int64_t i = 0; i < points.n; ++i)
    for (std::int64_t j = 0; j < points.n; ++j)
      if (j != i) offer(nb, i, static_cast<std::int32_t>(j), points.correlation(i, j));
  return nb;
}

}  // namespace laplex
