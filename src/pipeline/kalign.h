// Running kalign (as AlphaFold's alphafold/data/tools/kalign.py does) to realign a template hit's sequence to the
// SEQRES of its mmCIF chain when the two differ.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace axf::pipeline {

// Thrown when the kalign binary cannot be started at all (not installed, not executable): a setup problem,
// unlike a failed alignment, which callers may treat as a property of one input.
class KalignUnavailable : public Error {
 public:
  using Error::Error;
};

// Aligns `sequences` with `binary` (`kalign -i in.fasta -o out.fasta -format fasta`, accepted by kalign 2 and 3)
// in a private temporary directory and returns the aligned rows ('-' for gaps) in input order. As AlphaFold,
// refuses sequences shorter than 6 residues. Throws naming the binary, its exit status and the end of its log
// when it cannot be run or fails.
std::vector<std::string> kalign_align(const std::vector<std::string>& sequences, const std::string& binary = "kalign");

}  // namespace axf::pipeline
