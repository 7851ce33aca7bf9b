// Overloaded{lambdas...}: one visitor out of several lambdas, for
// std::visit over a Record. A visitor without a lambda for some record
// kind does not compile, so a new kind cannot be silently ignored.
#pragma once

namespace weft::traces {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace weft::traces
