#pragma once
// Comparisons of float64 result vectors shared by the LAPLEX tests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace laplex::testing {

// max |got - want| <= atol + rtol * max |want| (normwise: entries of W x can
// cancel, so entrywise relative error is meaningless near zero).
::testing::AssertionResult vectors_close(const std::string& what, const std::vector<double>& got,
                                         const std::vector<double>& want, double rtol,
                                         double atol = 1e-12);

// ||got - want||_2 / ||want||_2; infinite when the sizes differ.
double relative_error(const std::vector<double>& got, const std::vector<double>& want);

}  // namespace laplex::testing
