"""Citations used by the model's parameter tables (each verified against the literature index)."""

DECARIS_2015 = "doi:10.1371/journal.pone.0123311 (Decaris 2015: human liver collagen FSR 0.2-0.6 %/day)"
GHOLAMREZANEZHAD_2011 = (
    "https://jhu.pure.elsevier.com/en/publications/in-vivo-tracking-of-sup111supin-oxine-labeled-mesenchymal-stem-ce"
    " (Gholamrezanezhad 2011: In-111 MSC in cirrhosis, lung 27-34% at once, 2-5% by day 10)"
)
EGGENHOFER_2012 = "doi:10.3389/fimmu.2012.00297 (Eggenhofer 2012: viable MSCs only in lung, only to 24 h)"
WIESNER_2003 = "doi:10.1053/gast.2003.50016 (Wiesner 2003: 3-month mortality by MELD band)"
DAMICO_2006 = "doi:10.1016/j.jhep.2005.10.013 (D'Amico 2006: natural history of cirrhosis)"
KAMATH_2001 = "doi:10.1053/jhep.2001.22172 (Kamath 2001: MELD)"
STEWART_2007 = ("doi:10.1002/lt.21129 (Stewart 2007: HE grade >= 2 hazard ratio 2.6, 95% CI 1.7-3.8, adjusted "
                "for MELD, 271 patients hospitalised with decompensation)")
HEINKE_2022 = "doi:10.1016/j.cels.2022.05.001 (Heinke 2022: average human liver cell age < 3 years)"
BOUGUEON_2024 = "doi:10.1371/journal.pcbi.1011858 (Bougueon 2024: HSC activation/inactivation loop)"
KISSELEVA_2012 = "doi:10.1073/pnas.1201840109 (Kisseleva 2012: ~half of myofibroblasts inactivate)"
IREDALE_1998 = "doi:10.1172/JCI1018 (Iredale 1998: HSC apoptosis and falling TIMPs in regression)"
CALVARUSO_2009 = "doi:10.1002/hep.22745 (Calvaruso 2009: CPA 6% vs 17% for HVPG <10 vs >=10 mmHg)"
BOSCH_2009 = "doi:10.1038/nrgastro.2009.149 (Bosch 2009: HVPG >= 10 mmHg clinically significant)"
AOKI_2011 = "doi:10.1007/s11605-011-1590-y (Aoki 2011: remnant volume 51-81% over 1 wk-12 mo)"
ZHANG_2012 = "PMID:22320928 (Zhang 2012: UC-MSC in HBV decompensated cirrhosis)"
QIN_2025 = "doi:10.4240/wjgs.v17.i9.109980 (Qin 2025: hUC-MSC dose groups, NCT05442437)"
PUGH_1973 = "doi:10.1002/bjs.1800600817 (Pugh 1973: Child-Pugh grading, albumin > 35 / 28-35 / < 28 g/L)"
GARCIA_TSAO_1985 = ("doi:10.1002/hep.1840050313 (Garcia-Tsao 1985: no variceal bleeding below HVPG 12 mmHg, 93 "
                    "patients with alcoholic cirrhosis)")
MERLI_2003 = ("doi:10.1016/s0168-8278(02)00420-8 (Merli 2003: 2-year bleeding 12% with small varices, 2% without, "
              "206 cirrhotic patients)")
NIEC_1988 = ("https://moh-it.pure.elsevier.com/en/publications/prediction-of-the-first-variceal-hemorrhage-in-patients-"
             "with-cirr (North Italian Endoscopic Club, N Engl J Med 1988;319:983-989: first-bleeding index from Child "
             "class, varix size and red wale marks; 1-year bleeding 6-76%)")
REVERTER_2014 = ("doi:10.1053/j.gastro.2013.10.018 (Reverter 2014: 6-week mortality after variceal bleeding 16%; "
                 "logit(p) = -5.312 + 0.207 MELD)")
KANWAL_2023 = ("doi:10.1002/hep.32434 (Kanwal 2023: HCC incidence in cirrhosis by etiology, 2733 patients, 1.82/100 "
               "person-years overall)")
HCC_TABLE_2019 = ("https://pmc.ncbi.nlm.nih.gov/articles/PMC6628541 (Ther Adv Med Oncol 2019;11:1758835919861914, "
                  "Table 1: annual HCC incidence in cirrhosis by etiology)")
CERIOTTI_2010 = ("doi:10.1515/CCLM.2010.315 (Ceriotti 2010: IFCC-traceable reference intervals for ALT, AST and GGT, "
                 "ALT 8-41 / 9-59 U/L women / men, AST 11-34 U/L)")
ANDERSEN_2026 = "PMID:41705920 (Andersen 2026, Scand J Clin Lab Invest: ALP reference interval 40-120 U/L)"
BAVENO_VII = ("doi:10.1016/j.jhep.2021.12.022 (Baveno VII 2022: liver stiffness <= 15 kPa with platelets >= 150 x "
              "10^9/L rules out clinically significant portal hypertension)")
LATORRE_2016 = ("doi:10.1111/liv.12908 (Latorre 2016: platelets and HVPG, r = -0.47 in compensated cirrhosis; in "
                "decompensated patients driven by liver function)")
LUNOVA_2021 = ("doi:10.33549/physiolres.934626 (Lunova 2021: liver stiffness = 2.48 + 1.29 HVPG + 0.26 CPA kPa, "
               "81 transplant candidates, shear-wave elastography)")
EUBIVAS_2017 = ("doi:10.1373/clinchem.2016.269811 (Carobene 2017, EuBIVAS: within-subject biological variation "
                "ALT 9.3%, AST 9.5%, ALP 5.3%, GGT 8.9%)")
BV_CBC_1992 = ("PMID:1497462 (Arch Pathol Lab Med 1992;116:825: within-subject variation of platelets 6.7-8.6%, "
               "white cells 10.8-15.7%)")
AKBULUT_2025 = ("doi:10.1515/cclm-2025-0240 (Akbulut 2025: cholinesterase within-subject variation 3.5% men, 4.8% "
                "women)")
MENG_2013 = ("doi:10.3892/br.2013.60 (Meng 2013: serum cholinesterase by Child-Pugh class A/B/C 5368/2943/1833 U/L, "
             "866 patients)")
HUANG_2023 = ("doi:10.1016/j.cgh.2022.06.032 (Huang 2023: HCC in alcohol-related cirrhosis with death as a competing "
              "risk, cumulative incidence 1/3/9% at 1/5/10 years, 18 studies, 148,333 patients)")
DAMICO_PERRICONE_2019 = ("doi:10.1007/s11901-019-00473-1 (D'Amico & Perricone 2019: 5-year decompensation 24.5 +/- 13.6% "
                         "in 152,320 patients with compensated cirrhosis, 105 cohorts)")
CLIF_C_OF = ("doi:10.1016/j.jhep.2014.06.012 (Jalan 2014, CLIF-C OF: organ failure at bilirubin >= 12 mg/dL, "
             "creatinine >= 2 mg/dL, encephalopathy grade 3-4, INR >= 2.5, vasopressors, PaO2/FiO2 <= 200)")
MOREAU_2013 = ("doi:10.1053/j.gastro.2013.02.042 (Moreau 2013, CANONIC: ACLF definition and grades; 28-day mortality "
               "33.9% with ACLF at enrolment, 1.9% without)")
HOARE_2010 = ("doi:10.1016/j.jhep.2010.06.009 (Hoare, Das & Alexander 2010: ageing, telomeres, senescence and liver "
              "injury; senescence limits the proliferation of damaged hepatocytes at the cost of organ function)")
CARULLI_2014 = ("doi:10.3748/wjg.v20.i20.6287 (Carulli & Anzivino 2014: injury-driven hepatocyte turnover erodes "
                "telomeres; critically short telomeres bring senescence)")
ARAVINTHAN_2013 = ("doi:10.1371/journal.pone.0072904 (Aravinthan 2013: hepatocyte p21 senescence linked to fibrosis "
                   "and adverse liver-related outcome in alcohol-related liver disease)")
