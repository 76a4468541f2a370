"""Non-invasive fibrosis indices FIB-4 and APRI as pure, vectorised functions of lab values.

Research software, not clinical advice. Scalars or NumPy arrays (broadcast against each other) in; plain ``float``
for scalar input, arrays otherwise. Impossible input raises :class:`ValueError` naming the argument, the value and
what was expected. Units: age in years, AST and ALT in U/L, platelets in 10^9/L.

Sources (V = read in the paper's abstract or the publisher/official page; V2 = secondary source only; NV = not
verified; status from the issue-20 literature preparation)
--------------------------------------------------------------------------------------------------------------
* FIB-4: Sterling RK et al. Development of a simple noninvasive index to predict significant fibrosis in patients
  with HIV/HCV coinfection. Hepatology 2006;43(6):1317-1325, doi:10.1002/hep.21178, PMID 16729309. Formula and
  cut-offs V. Derived in HIV/HCV coinfection (n=832) for Ishak stage 4-6.
* APRI: Wai CT et al. Hepatology 2003;38:518-526 (primary paper NV; DOI not retrieved). Formula V2 (table in
  PMC3286137). Cut-offs for hepatitis B from the meta-analysis Jin W et al. BMC Gastroenterol 2012;12:14,
  doi:10.1186/1471-230X-12-14 (V).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._checks import check_age, float_out, positive

__all__ = [
    "APRI_CIRRHOSIS_HIGH_CUTOFF",
    "APRI_CIRRHOSIS_LOW_CUTOFF",
    "APRI_SIGNIFICANT_FIBROSIS_HIGH_CUTOFF",
    "APRI_SIGNIFICANT_FIBROSIS_LOW_CUTOFF",
    "AST_ULN_DEFAULT_SOURCE",
    "AST_ULN_DEFAULT_U_L",
    "FIB4_HIGH_CUTOFF",
    "FIB4_LOW_CUTOFF",
    "apri",
    "fib4",
]

# ---------------------------------------------------------------------------
# reference values and published cut-offs
# ---------------------------------------------------------------------------

#: Default AST upper limit of normal for APRI, U/L.
AST_ULN_DEFAULT_U_L = 40.0
AST_ULN_DEFAULT_SOURCE = (
    "assumed: 40 U/L is the conventional AST ULN that APRI calculators use by default (V2, calculator pages "
    "citing WHO hepatitis B guidance; the ULN used by Wai 2003 was not verified). The IFCC-traceable adult "
    "reference interval is 11-34 U/L (Ceriotti F et al. CCLM 2010;48(11):1593-1601, doi:10.1515/CCLM.2010.315). "
    "APRI should use the ULN of the laboratory that measured the AST."
)

#: FIB-4 < 1.45: NPV 90 %, sensitivity 70 % for Ishak 4-6 (Sterling 2006, V).
FIB4_LOW_CUTOFF = 1.45
#: FIB-4 > 3.25: PPV 65 %, specificity 97 % for Ishak 4-6 (Sterling 2006, V).
FIB4_HIGH_CUTOFF = 3.25

#: APRI 0.5 for significant fibrosis in hepatitis B: sensitivity 84 %, specificity 41 % (Jin 2012, V).
APRI_SIGNIFICANT_FIBROSIS_LOW_CUTOFF = 0.5
#: APRI 1.5 for significant fibrosis in hepatitis B: sensitivity 49 %, specificity 84 % (Jin 2012, V).
APRI_SIGNIFICANT_FIBROSIS_HIGH_CUTOFF = 1.5
#: APRI 1.0 (the meta-analysis pools 1.0-1.5) for cirrhosis in hepatitis B: sensitivity 54 %, specificity 78 %
#: (Jin 2012, V).
APRI_CIRRHOSIS_LOW_CUTOFF = 1.0
#: APRI 2.0 for cirrhosis in hepatitis B: sensitivity 28 %, specificity 87 % (Jin 2012, V).
APRI_CIRRHOSIS_HIGH_CUTOFF = 2.0

def fib4(
    age_years: ArrayLike, ast_u_l: ArrayLike, alt_u_l: ArrayLike, platelets_10e9_l: ArrayLike
) -> float | np.ndarray:
    """FIB-4 = age * AST / (platelets * sqrt(ALT)) (Sterling 2006, doi:10.1002/hep.21178).

    Age in years, AST and ALT in U/L, platelets in 10^9/L. Cut-offs: :data:`FIB4_LOW_CUTOFF` (< 1.45) and
    :data:`FIB4_HIGH_CUTOFF` (> 3.25).
    """
    age = check_age(age_years)
    ast = positive("ast_u_l", ast_u_l, "a finite AST > 0 U/L")
    alt = positive("alt_u_l", alt_u_l, "a finite ALT > 0 U/L (its square root divides)")
    plt = positive("platelets_10e9_l", platelets_10e9_l, "a finite platelet count > 0 x 10^9/L")
    return float_out(age * ast / (plt * np.sqrt(alt)))


def apri(
    ast_u_l: ArrayLike,
    platelets_10e9_l: ArrayLike,
    ast_uln_u_l: ArrayLike = AST_ULN_DEFAULT_U_L,
) -> float | np.ndarray:
    """APRI = (AST / AST upper limit of normal) * 100 / platelets (Wai 2003, primary NV; formula V2, PMC3286137).

    AST and its ULN in U/L (default ULN :data:`AST_ULN_DEFAULT_U_L` = 40, assumed: see
    :data:`AST_ULN_DEFAULT_SOURCE`), platelets in 10^9/L. Cut-offs (hepatitis B, Jin 2012,
    doi:10.1186/1471-230X-12-14): 0.5 and 1.5 for significant fibrosis, 1.0 and 2.0 for cirrhosis.
    """
    ast = positive("ast_u_l", ast_u_l, "a finite AST > 0 U/L")
    plt = positive("platelets_10e9_l", platelets_10e9_l, "a finite platelet count > 0 x 10^9/L")
    uln = positive("ast_uln_u_l", ast_uln_u_l, "a finite AST upper limit of normal > 0 U/L")
    return float_out(ast / uln * 100.0 / plt)
