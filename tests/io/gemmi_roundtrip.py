#!/usr/bin/env python3
"""Reads a PDB or mmCIF file with gemmi and prints what the structure-writer test compares.

Output lines:
  models N
  chain NAME
  entity_seq RES RES ...        (mmCIF only: the _entity_poly_seq gemmi read)
  plddt_local N                 (mmCIF only: rows of _ma_qa_metric_local)
  plddt_global VALUE            (mmCIF only)
  title TEXT                    (mmCIF only, when the file has _struct.title)
  atom RESSEQ RESNAME ATOMNAME ELEMENT X Y Z B OCC
Exit status 2 when gemmi cannot be imported, 1 when the file cannot be read.
"""
import sys

try:
    import gemmi
except ImportError as e:
    print(f"cannot import gemmi: {e}", file=sys.stderr)
    sys.exit(2)


def main(path):
    is_cif = path.endswith(".cif")
    try:
        st = gemmi.read_structure(path)
    except Exception as e:  # gemmi raises RuntimeError/ValueError with the reason
        print(f"gemmi cannot read {path}: {e}", file=sys.stderr)
        return 1
    print(f"models {len(st)}")
    for chain in st[0]:
        print(f"chain {chain.name}")
    if is_cif:
        block = gemmi.cif.read(path).sole_block()
        print("entity_seq " + " ".join(block.find_values("_entity_poly_seq.mon_id")))
        print(f"plddt_local {len(block.find_values('_ma_qa_metric_local.metric_value'))}")
        print(f"plddt_global {block.find_value('_ma_qa_metric_global.metric_value')}")
        title = block.find_value("_struct.title")
        if title is not None:
            print(f"title {gemmi.cif.as_string(title)}")
    for chain in st[0]:
        for res in chain:
            for atom in res:
                p = atom.pos
                print(f"atom {res.seqid.num} {res.name} {atom.name} {atom.element.name} "
                      f"{p.x:.3f} {p.y:.3f} {p.z:.3f} {atom.b_iso:.2f} {atom.occ:.2f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: gemmi_roundtrip.py FILE", file=sys.stderr)
        sys.exit(1)
    sys.exit(main(sys.argv[1]))
