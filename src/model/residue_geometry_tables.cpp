// Residue geometry tables (residue_constants.h Section 4): the stereo_chemical_props.txt bond lengths and bond
// angles (entered from AlphaFold's alphafold/common/stereo_chemical_props.txt, Engh & Huber values), and the
// rigid-group default frames derived from rigid_group_atom_positions as AlphaFold's _make_rigid_group_constants.
#include <cmath>
#include <iterator>

#include "model/residue_constants.h"

namespace axf::model {

namespace {

// "Bond  Residue  Mean  StdDev" section, in file order.
constexpr StereoBond kBonds[] = {
    {"ALA", "CA", "CB", 1.520, 0.021},   {"ALA", "N", "CA", 1.459, 0.020},    {"ALA", "CA", "C", 1.525, 0.026},
    {"ALA", "C", "O", 1.229, 0.019},

    {"ARG", "CA", "CB", 1.535, 0.022},   {"ARG", "CB", "CG", 1.521, 0.027},   {"ARG", "CG", "CD", 1.515, 0.025},
    {"ARG", "CD", "NE", 1.460, 0.017},   {"ARG", "NE", "CZ", 1.326, 0.013},   {"ARG", "CZ", "NH1", 1.326, 0.013},
    {"ARG", "CZ", "NH2", 1.326, 0.013},  {"ARG", "N", "CA", 1.459, 0.020},    {"ARG", "CA", "C", 1.525, 0.026},
    {"ARG", "C", "O", 1.229, 0.019},

    {"ASN", "CA", "CB", 1.527, 0.026},   {"ASN", "CB", "CG", 1.506, 0.023},   {"ASN", "CG", "OD1", 1.235, 0.022},
    {"ASN", "CG", "ND2", 1.324, 0.025},  {"ASN", "N", "CA", 1.459, 0.020},    {"ASN", "CA", "C", 1.525, 0.026},
    {"ASN", "C", "O", 1.229, 0.019},

    {"ASP", "CA", "CB", 1.535, 0.022},   {"ASP", "CB", "CG", 1.513, 0.021},   {"ASP", "CG", "OD1", 1.249, 0.023},
    {"ASP", "CG", "OD2", 1.249, 0.023},  {"ASP", "N", "CA", 1.459, 0.020},    {"ASP", "CA", "C", 1.525, 0.026},
    {"ASP", "C", "O", 1.229, 0.019},

    {"CYS", "CA", "CB", 1.526, 0.013},   {"CYS", "CB", "SG", 1.812, 0.016},   {"CYS", "N", "CA", 1.459, 0.020},
    {"CYS", "CA", "C", 1.525, 0.026},    {"CYS", "C", "O", 1.229, 0.019},

    {"GLU", "CA", "CB", 1.535, 0.022},   {"GLU", "CB", "CG", 1.517, 0.019},   {"GLU", "CG", "CD", 1.515, 0.015},
    {"GLU", "CD", "OE1", 1.252, 0.011},  {"GLU", "CD", "OE2", 1.252, 0.011},  {"GLU", "N", "CA", 1.459, 0.020},
    {"GLU", "CA", "C", 1.525, 0.026},    {"GLU", "C", "O", 1.229, 0.019},

    {"GLN", "CA", "CB", 1.535, 0.022},   {"GLN", "CB", "CG", 1.521, 0.027},   {"GLN", "CG", "CD", 1.506, 0.023},
    {"GLN", "CD", "OE1", 1.235, 0.022},  {"GLN", "CD", "NE2", 1.324, 0.025},  {"GLN", "N", "CA", 1.459, 0.020},
    {"GLN", "CA", "C", 1.525, 0.026},    {"GLN", "C", "O", 1.229, 0.019},

    {"GLY", "N", "CA", 1.456, 0.015},    {"GLY", "CA", "C", 1.514, 0.016},    {"GLY", "C", "O", 1.232, 0.016},

    {"HIS", "CA", "CB", 1.535, 0.022},   {"HIS", "CB", "CG", 1.492, 0.016},   {"HIS", "CG", "ND1", 1.369, 0.015},
    {"HIS", "CG", "CD2", 1.353, 0.017},  {"HIS", "ND1", "CE1", 1.343, 0.025}, {"HIS", "CD2", "NE2", 1.415, 0.021},
    {"HIS", "CE1", "NE2", 1.322, 0.023}, {"HIS", "N", "CA", 1.459, 0.020},    {"HIS", "CA", "C", 1.525, 0.026},
    {"HIS", "C", "O", 1.229, 0.019},

    {"ILE", "CA", "CB", 1.544, 0.023},   {"ILE", "CB", "CG1", 1.536, 0.028},  {"ILE", "CB", "CG2", 1.524, 0.031},
    {"ILE", "CG1", "CD1", 1.500, 0.069}, {"ILE", "N", "CA", 1.459, 0.020},    {"ILE", "CA", "C", 1.525, 0.026},
    {"ILE", "C", "O", 1.229, 0.019},

    {"LEU", "CA", "CB", 1.533, 0.023},   {"LEU", "CB", "CG", 1.521, 0.029},   {"LEU", "CG", "CD1", 1.514, 0.037},
    {"LEU", "CG", "CD2", 1.514, 0.037},  {"LEU", "N", "CA", 1.459, 0.020},    {"LEU", "CA", "C", 1.525, 0.026},
    {"LEU", "C", "O", 1.229, 0.019},

    {"LYS", "CA", "CB", 1.535, 0.022},   {"LYS", "CB", "CG", 1.521, 0.027},   {"LYS", "CG", "CD", 1.520, 0.034},
    {"LYS", "CD", "CE", 1.508, 0.025},   {"LYS", "CE", "NZ", 1.486, 0.025},   {"LYS", "N", "CA", 1.459, 0.020},
    {"LYS", "CA", "C", 1.525, 0.026},    {"LYS", "C", "O", 1.229, 0.019},

    {"MET", "CA", "CB", 1.535, 0.022},   {"MET", "CB", "CG", 1.509, 0.032},   {"MET", "CG", "SD", 1.807, 0.026},
    {"MET", "SD", "CE", 1.774, 0.056},   {"MET", "N", "CA", 1.459, 0.020},    {"MET", "CA", "C", 1.525, 0.026},
    {"MET", "C", "O", 1.229, 0.019},

    {"PHE", "CA", "CB", 1.535, 0.022},   {"PHE", "CB", "CG", 1.509, 0.017},   {"PHE", "CG", "CD1", 1.383, 0.015},
    {"PHE", "CG", "CD2", 1.383, 0.015},  {"PHE", "CD1", "CE1", 1.388, 0.020}, {"PHE", "CD2", "CE2", 1.388, 0.020},
    {"PHE", "CE1", "CZ", 1.369, 0.019},  {"PHE", "CE2", "CZ", 1.369, 0.019},  {"PHE", "N", "CA", 1.459, 0.020},
    {"PHE", "CA", "C", 1.525, 0.026},    {"PHE", "C", "O", 1.229, 0.019},

    {"PRO", "CA", "CB", 1.531, 0.020},   {"PRO", "CB", "CG", 1.495, 0.050},   {"PRO", "CG", "CD", 1.502, 0.033},
    {"PRO", "CD", "N", 1.474, 0.014},    {"PRO", "N", "CA", 1.468, 0.017},    {"PRO", "CA", "C", 1.524, 0.020},
    {"PRO", "C", "O", 1.228, 0.020},

    {"SER", "CA", "CB", 1.525, 0.015},   {"SER", "CB", "OG", 1.418, 0.013},   {"SER", "N", "CA", 1.459, 0.020},
    {"SER", "CA", "C", 1.525, 0.026},    {"SER", "C", "O", 1.229, 0.019},

    {"THR", "CA", "CB", 1.529, 0.026},   {"THR", "CB", "OG1", 1.428, 0.020},  {"THR", "CB", "CG2", 1.519, 0.033},
    {"THR", "N", "CA", 1.459, 0.020},    {"THR", "CA", "C", 1.525, 0.026},    {"THR", "C", "O", 1.229, 0.019},

    {"TRP", "CA", "CB", 1.535, 0.022},   {"TRP", "CB", "CG", 1.498, 0.018},   {"TRP", "CG", "CD1", 1.363, 0.014},
    {"TRP", "CG", "CD2", 1.432, 0.017},  {"TRP", "CD1", "NE1", 1.375, 0.017}, {"TRP", "NE1", "CE2", 1.371, 0.013},
    {"TRP", "CD2", "CE2", 1.409, 0.012}, {"TRP", "CD2", "CE3", 1.399, 0.015}, {"TRP", "CE2", "CZ2", 1.393, 0.017},
    {"TRP", "CE3", "CZ3", 1.380, 0.017}, {"TRP", "CZ2", "CH2", 1.369, 0.019}, {"TRP", "CZ3", "CH2", 1.396, 0.016},
    {"TRP", "N", "CA", 1.459, 0.020},    {"TRP", "CA", "C", 1.525, 0.026},    {"TRP", "C", "O", 1.229, 0.019},

    {"TYR", "CA", "CB", 1.535, 0.022},   {"TYR", "CB", "CG", 1.512, 0.015},   {"TYR", "CG", "CD1", 1.387, 0.013},
    {"TYR", "CG", "CD2", 1.387, 0.013},  {"TYR", "CD1", "CE1", 1.389, 0.015}, {"TYR", "CD2", "CE2", 1.389, 0.015},
    {"TYR", "CE1", "CZ", 1.381, 0.013},  {"TYR", "CE2", "CZ", 1.381, 0.013},  {"TYR", "CZ", "OH", 1.374, 0.017},
    {"TYR", "N", "CA", 1.459, 0.020},    {"TYR", "CA", "C", 1.525, 0.026},    {"TYR", "C", "O", 1.229, 0.019},

    {"VAL", "CA", "CB", 1.543, 0.021},   {"VAL", "CB", "CG1", 1.524, 0.021},  {"VAL", "CB", "CG2", 1.524, 0.021},
    {"VAL", "N", "CA", 1.459, 0.020},    {"VAL", "CA", "C", 1.525, 0.026},    {"VAL", "C", "O", 1.229, 0.019},
};

// "Angle  Residue  Mean  StdDev" section (degrees), in file order.
constexpr StereoBondAngle kAngles[] = {
    {"ALA", "N", "CA", "CB", 110.1, 1.4},
    {"ALA", "CB", "CA", "C", 110.1, 1.5},
    {"ALA", "N", "CA", "C", 111.0, 2.7},
    {"ALA", "CA", "C", "O", 120.1, 2.1},

    {"ARG", "N", "CA", "CB", 110.6, 1.8},
    {"ARG", "CB", "CA", "C", 110.4, 2.0},
    {"ARG", "CA", "CB", "CG", 113.4, 2.2},
    {"ARG", "CB", "CG", "CD", 111.6, 2.6},
    {"ARG", "CG", "CD", "NE", 111.8, 2.1},
    {"ARG", "CD", "NE", "CZ", 123.6, 1.4},
    {"ARG", "NE", "CZ", "NH1", 120.3, 0.5},
    {"ARG", "NE", "CZ", "NH2", 120.3, 0.5},
    {"ARG", "NH1", "CZ", "NH2", 119.4, 1.1},
    {"ARG", "N", "CA", "C", 111.0, 2.7},
    {"ARG", "CA", "C", "O", 120.1, 2.1},

    {"ASN", "N", "CA", "CB", 110.6, 1.8},
    {"ASN", "CB", "CA", "C", 110.4, 2.0},
    {"ASN", "CA", "CB", "CG", 113.4, 2.2},
    {"ASN", "CB", "CG", "ND2", 116.7, 2.4},
    {"ASN", "CB", "CG", "OD1", 121.6, 2.0},
    {"ASN", "ND2", "CG", "OD1", 121.9, 2.3},
    {"ASN", "N", "CA", "C", 111.0, 2.7},
    {"ASN", "CA", "C", "O", 120.1, 2.1},

    {"ASP", "N", "CA", "CB", 110.6, 1.8},
    {"ASP", "CB", "CA", "C", 110.4, 2.0},
    {"ASP", "CA", "CB", "CG", 113.4, 2.2},
    {"ASP", "CB", "CG", "OD1", 118.3, 0.9},
    {"ASP", "CB", "CG", "OD2", 118.3, 0.9},
    {"ASP", "OD1", "CG", "OD2", 123.3, 1.9},
    {"ASP", "N", "CA", "C", 111.0, 2.7},
    {"ASP", "CA", "C", "O", 120.1, 2.1},

    {"CYS", "N", "CA", "CB", 110.8, 1.5},
    {"CYS", "CB", "CA", "C", 111.5, 1.2},
    {"CYS", "CA", "CB", "SG", 114.2, 1.1},
    {"CYS", "N", "CA", "C", 111.0, 2.7},
    {"CYS", "CA", "C", "O", 120.1, 2.1},

    {"GLU", "N", "CA", "CB", 110.6, 1.8},
    {"GLU", "CB", "CA", "C", 110.4, 2.0},
    {"GLU", "CA", "CB", "CG", 113.4, 2.2},
    {"GLU", "CB", "CG", "CD", 114.2, 2.7},
    {"GLU", "CG", "CD", "OE1", 118.3, 2.0},
    {"GLU", "CG", "CD", "OE2", 118.3, 2.0},
    {"GLU", "OE1", "CD", "OE2", 123.3, 1.2},
    {"GLU", "N", "CA", "C", 111.0, 2.7},
    {"GLU", "CA", "C", "O", 120.1, 2.1},

    {"GLN", "N", "CA", "CB", 110.6, 1.8},
    {"GLN", "CB", "CA", "C", 110.4, 2.0},
    {"GLN", "CA", "CB", "CG", 113.4, 2.2},
    {"GLN", "CB", "CG", "CD", 111.6, 2.6},
    {"GLN", "CG", "CD", "OE1", 121.6, 2.0},
    {"GLN", "CG", "CD", "NE2", 116.7, 2.4},
    {"GLN", "OE1", "CD", "NE2", 121.9, 2.3},
    {"GLN", "N", "CA", "C", 111.0, 2.7},
    {"GLN", "CA", "C", "O", 120.1, 2.1},

    {"GLY", "N", "CA", "C", 113.1, 2.5},
    {"GLY", "CA", "C", "O", 120.6, 1.8},

    {"HIS", "N", "CA", "CB", 110.6, 1.8},
    {"HIS", "CB", "CA", "C", 110.4, 2.0},
    {"HIS", "CA", "CB", "CG", 113.6, 1.7},
    {"HIS", "CB", "CG", "ND1", 123.2, 2.5},
    {"HIS", "CB", "CG", "CD2", 130.8, 3.1},
    {"HIS", "CG", "ND1", "CE1", 108.2, 1.4},
    {"HIS", "ND1", "CE1", "NE2", 109.9, 2.2},
    {"HIS", "CE1", "NE2", "CD2", 106.6, 2.5},
    {"HIS", "NE2", "CD2", "CG", 109.2, 1.9},
    {"HIS", "CD2", "CG", "ND1", 106.0, 1.4},
    {"HIS", "N", "CA", "C", 111.0, 2.7},
    {"HIS", "CA", "C", "O", 120.1, 2.1},

    {"ILE", "N", "CA", "CB", 110.8, 2.3},
    {"ILE", "CB", "CA", "C", 111.6, 2.0},
    {"ILE", "CA", "CB", "CG1", 111.0, 1.9},
    {"ILE", "CB", "CG1", "CD1", 113.9, 2.8},
    {"ILE", "CA", "CB", "CG2", 110.9, 2.0},
    {"ILE", "CG1", "CB", "CG2", 111.4, 2.2},
    {"ILE", "N", "CA", "C", 111.0, 2.7},
    {"ILE", "CA", "C", "O", 120.1, 2.1},

    {"LEU", "N", "CA", "CB", 110.4, 2.0},
    {"LEU", "CB", "CA", "C", 110.2, 1.9},
    {"LEU", "CA", "CB", "CG", 115.3, 2.3},
    {"LEU", "CB", "CG", "CD1", 111.0, 1.7},
    {"LEU", "CB", "CG", "CD2", 111.0, 1.7},
    {"LEU", "CD1", "CG", "CD2", 110.5, 3.0},
    {"LEU", "N", "CA", "C", 111.0, 2.7},
    {"LEU", "CA", "C", "O", 120.1, 2.1},

    {"LYS", "N", "CA", "CB", 110.6, 1.8},
    {"LYS", "CB", "CA", "C", 110.4, 2.0},
    {"LYS", "CA", "CB", "CG", 113.4, 2.2},
    {"LYS", "CB", "CG", "CD", 111.6, 2.6},
    {"LYS", "CG", "CD", "CE", 111.9, 3.0},
    {"LYS", "CD", "CE", "NZ", 111.7, 2.3},
    {"LYS", "N", "CA", "C", 111.0, 2.7},
    {"LYS", "CA", "C", "O", 120.1, 2.1},

    {"MET", "N", "CA", "CB", 110.6, 1.8},
    {"MET", "CB", "CA", "C", 110.4, 2.0},
    {"MET", "CA", "CB", "CG", 113.3, 1.7},
    {"MET", "CB", "CG", "SD", 112.4, 3.0},
    {"MET", "CG", "SD", "CE", 100.2, 1.6},
    {"MET", "N", "CA", "C", 111.0, 2.7},
    {"MET", "CA", "C", "O", 120.1, 2.1},

    {"PHE", "N", "CA", "CB", 110.6, 1.8},
    {"PHE", "CB", "CA", "C", 110.4, 2.0},
    {"PHE", "CA", "CB", "CG", 113.9, 2.4},
    {"PHE", "CB", "CG", "CD1", 120.8, 0.7},
    {"PHE", "CB", "CG", "CD2", 120.8, 0.7},
    {"PHE", "CD1", "CG", "CD2", 118.3, 1.3},
    {"PHE", "CG", "CD1", "CE1", 120.8, 1.1},
    {"PHE", "CG", "CD2", "CE2", 120.8, 1.1},
    {"PHE", "CD1", "CE1", "CZ", 120.1, 1.2},
    {"PHE", "CD2", "CE2", "CZ", 120.1, 1.2},
    {"PHE", "CE1", "CZ", "CE2", 120.0, 1.8},
    {"PHE", "N", "CA", "C", 111.0, 2.7},
    {"PHE", "CA", "C", "O", 120.1, 2.1},

    {"PRO", "N", "CA", "CB", 103.3, 1.2},
    {"PRO", "CB", "CA", "C", 111.7, 2.1},
    {"PRO", "CA", "CB", "CG", 104.8, 1.9},
    {"PRO", "CB", "CG", "CD", 106.5, 3.9},
    {"PRO", "CG", "CD", "N", 103.2, 1.5},
    {"PRO", "CA", "N", "CD", 111.7, 1.4},
    {"PRO", "N", "CA", "C", 112.1, 2.6},
    {"PRO", "CA", "C", "O", 120.2, 2.4},

    {"SER", "N", "CA", "CB", 110.5, 1.5},
    {"SER", "CB", "CA", "C", 110.1, 1.9},
    {"SER", "CA", "CB", "OG", 111.2, 2.7},
    {"SER", "N", "CA", "C", 111.0, 2.7},
    {"SER", "CA", "C", "O", 120.1, 2.1},

    {"THR", "N", "CA", "CB", 110.3, 1.9},
    {"THR", "CB", "CA", "C", 111.6, 2.7},
    {"THR", "CA", "CB", "OG1", 109.0, 2.1},
    {"THR", "CA", "CB", "CG2", 112.4, 1.4},
    {"THR", "OG1", "CB", "CG2", 110.0, 2.3},
    {"THR", "N", "CA", "C", 111.0, 2.7},
    {"THR", "CA", "C", "O", 120.1, 2.1},

    {"TRP", "N", "CA", "CB", 110.6, 1.8},
    {"TRP", "CB", "CA", "C", 110.4, 2.0},
    {"TRP", "CA", "CB", "CG", 113.7, 1.9},
    {"TRP", "CB", "CG", "CD1", 127.0, 1.3},
    {"TRP", "CB", "CG", "CD2", 126.6, 1.3},
    {"TRP", "CD1", "CG", "CD2", 106.3, 0.8},
    {"TRP", "CG", "CD1", "NE1", 110.1, 1.0},
    {"TRP", "CD1", "NE1", "CE2", 109.0, 0.9},
    {"TRP", "NE1", "CE2", "CD2", 107.3, 1.0},
    {"TRP", "CE2", "CD2", "CG", 107.3, 0.8},
    {"TRP", "CG", "CD2", "CE3", 133.9, 0.9},
    {"TRP", "NE1", "CE2", "CZ2", 130.4, 1.1},
    {"TRP", "CE3", "CD2", "CE2", 118.7, 1.2},
    {"TRP", "CD2", "CE2", "CZ2", 122.3, 1.2},
    {"TRP", "CE2", "CZ2", "CH2", 117.4, 1.0},
    {"TRP", "CZ2", "CH2", "CZ3", 121.6, 1.2},
    {"TRP", "CH2", "CZ3", "CE3", 121.2, 1.1},
    {"TRP", "CZ3", "CE3", "CD2", 118.8, 1.3},
    {"TRP", "N", "CA", "C", 111.0, 2.7},
    {"TRP", "CA", "C", "O", 120.1, 2.1},

    {"TYR", "N", "CA", "CB", 110.6, 1.8},
    {"TYR", "CB", "CA", "C", 110.4, 2.0},
    {"TYR", "CA", "CB", "CG", 113.4, 1.9},
    {"TYR", "CB", "CG", "CD1", 121.0, 0.6},
    {"TYR", "CB", "CG", "CD2", 121.0, 0.6},
    {"TYR", "CD1", "CG", "CD2", 117.9, 1.1},
    {"TYR", "CG", "CD1", "CE1", 121.3, 0.8},
    {"TYR", "CG", "CD2", "CE2", 121.3, 0.8},
    {"TYR", "CD1", "CE1", "CZ", 119.8, 0.9},
    {"TYR", "CD2", "CE2", "CZ", 119.8, 0.9},
    {"TYR", "CE1", "CZ", "CE2", 119.8, 1.6},
    {"TYR", "CE1", "CZ", "OH", 120.1, 2.7},
    {"TYR", "CE2", "CZ", "OH", 120.1, 2.7},
    {"TYR", "N", "CA", "C", 111.0, 2.7},
    {"TYR", "CA", "C", "O", 120.1, 2.1},

    {"VAL", "N", "CA", "CB", 111.5, 2.2},
    {"VAL", "CB", "CA", "C", 111.4, 1.9},
    {"VAL", "CA", "CB", "CG1", 110.9, 1.5},
    {"VAL", "CA", "CB", "CG2", 110.9, 1.5},
    {"VAL", "CG1", "CB", "CG2", 110.9, 1.6},
    {"VAL", "N", "CA", "C", 111.0, 2.7},
    {"VAL", "CA", "C", "O", 120.1, 2.1},
};

// Every atom named by the tables belongs to its residue.
constexpr bool residue_has_atom(std::string_view resname, std::string_view atom) {
  const int r = resname_index(resname);
  return r >= 0 && r < restype_num && atom14_index(r, atom) >= 0;
}
constexpr bool stereo_tables_consistent() {
  for (const StereoBond& b : kBonds) {
    if (!residue_has_atom(b.resname, b.atom1) || !residue_has_atom(b.resname, b.atom2)) return false;
  }
  for (const StereoBondAngle& a : kAngles) {
    if (!residue_has_atom(a.resname, a.atom1) || !residue_has_atom(a.resname, a.atom2) ||
        !residue_has_atom(a.resname, a.atom3)) {
      return false;
    }
  }
  return true;
}
static_assert(stereo_tables_consistent(), "stereo_chemical_props entry names an atom its residue lacks");
static_assert(std::size(kBonds) == 153 && std::size(kAngles) == 174, "stereo_chemical_props entry count");

// --- Default frames (_make_rigid_group_constants), in double like numpy, stored as float32. ---

using Vec3d = std::array<double, 3>;
using Mat4d = std::array<std::array<double, 4>, 4>;

Vec3d sub(const Vec3d& a, const Vec3d& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const Vec3d& a, const Vec3d& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

// _make_rigid_transformation_4x4(ex, ey, translation): columns ex/|ex|, ey orthogonalised and normalised, their
// cross product, translation; last row (0, 0, 0, 1).
Mat4d make_rigid_transformation_4x4(const Vec3d& ex, const Vec3d& ey, const Vec3d& translation) {
  const double ex_norm = std::sqrt(dot(ex, ex));
  const Vec3d e0 = {ex[0] / ex_norm, ex[1] / ex_norm, ex[2] / ex_norm};
  const double proj = dot(ey, e0);
  Vec3d e1 = {ey[0] - proj * e0[0], ey[1] - proj * e0[1], ey[2] - proj * e0[2]};
  const double e1_norm = std::sqrt(dot(e1, e1));
  for (double& v : e1) v /= e1_norm;
  const Vec3d e2 = {e0[1] * e1[2] - e0[2] * e1[1], e0[2] * e1[0] - e0[0] * e1[2], e0[0] * e1[1] - e0[1] * e1[0]};
  Mat4d m{};
  for (int i = 0; i < 3; ++i) {
    m[i][0] = e0[i];
    m[i][1] = e1[i];
    m[i][2] = e2[i];
    m[i][3] = translation[i];
  }
  m[3][3] = 1.0;
  return m;
}

Mat4d identity4() {
  Mat4d m{};
  for (int i = 0; i < 4; ++i) m[i][i] = 1.0;
  return m;
}

Vec3d atom_position(int restype, std::string_view name) {
  const RigidGroupAtomPosition* a = find_rigid_group_atom(restype, name);
  return a ? a->position : Vec3d{0.0, 0.0, 0.0};
}

RestypeRigidGroupFrames make_default_frames() {
  RestypeRigidGroupFrames out{};  // all zeros, incl. the UNK row and undefined chi groups
  for (int r = 0; r < restype_num; ++r) {
    std::array<Mat4d, rigid_group_num> f{};
    f[0] = identity4();  // backbone to backbone
    f[1] = identity4();  // pre-omega to backbone (dummy identity)
    const Vec3d n = atom_position(r, "N"), ca = atom_position(r, "CA"), c = atom_position(r, "C");
    f[2] = make_rigid_transformation_4x4(sub(n, ca), {1.0, 0.0, 0.0}, n);  // phi to backbone
    f[3] = make_rigid_transformation_4x4(sub(c, ca), sub(ca, n), c);       // psi to backbone
    if (chi_angles_mask[r][0] != 0.f) {                                    // chi1 to backbone
      const Vec3d a0 = atom_position(r, chi_angles_atoms[r][0][0]);
      const Vec3d a1 = atom_position(r, chi_angles_atoms[r][0][1]);
      const Vec3d a2 = atom_position(r, chi_angles_atoms[r][0][2]);
      f[4] = make_rigid_transformation_4x4(sub(a2, a1), sub(a0, a1), a2);
    }
    // chi2..chi4 to the previous chi frame: the rotation axis starts at the previous frame's origin.
    for (int chi = 1; chi < chi_num; ++chi) {
      if (chi_angles_mask[r][chi] == 0.f) continue;
      const Vec3d p = atom_position(r, chi_angles_atoms[r][chi][2]);
      f[4 + chi] = make_rigid_transformation_4x4(p, {-1.0, 0.0, 0.0}, p);
    }
    for (int g = 0; g < rigid_group_num; ++g) {
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) out[r][g][i][j] = static_cast<float>(f[g][i][j]);
      }
    }
  }
  return out;
}

}  // namespace

const RestypeRigidGroupFrames& restype_rigid_group_default_frame() {
  static const RestypeRigidGroupFrames frames = make_default_frames();
  return frames;
}

std::span<const StereoBond> stereo_chemical_bonds() { return kBonds; }

std::span<const StereoBondAngle> stereo_chemical_bond_angles() { return kAngles; }

std::vector<StereoBond> residue_bonds(std::string_view resname) {
  std::vector<StereoBond> out;
  for (const StereoBond& b : kBonds) {
    if (b.resname == resname) out.push_back(b);
  }
  return out;
}

std::vector<StereoBondAngle> residue_bond_angles(std::string_view resname) {
  std::vector<StereoBondAngle> out;
  for (const StereoBondAngle& a : kAngles) {
    if (a.resname == resname) out.push_back(a);
  }
  return out;
}

}  // namespace axf::model
