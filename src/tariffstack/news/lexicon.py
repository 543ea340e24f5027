"""Words the claim finder knows: parties, product groups, tariff nouns and verbs, modals.

Every decision of the finder traces to one of these named patterns.
"""

from __future__ import annotations

import re

COUNTRY_NAMES: dict[str, str] = {
    "US": "United States", "CN": "China", "HK": "Hong Kong", "MO": "Macau", "CA": "Canada",
    "MX": "Mexico", "EU": "European Union", "JP": "Japan", "IN": "India", "VN": "Vietnam",
    "GB": "United Kingdom", "KR": "South Korea", "TW": "Taiwan", "BR": "Brazil",
    "CH": "Switzerland", "DE": "Germany", "FR": "France", "IT": "Italy", "AU": "Australia",
    "KH": "Cambodia", "TH": "Thailand", "ID": "Indonesia", "MY": "Malaysia", "RU": "Russia",
    "SG": "Singapore", "PH": "Philippines", "BD": "Bangladesh", "ZA": "South Africa",
    "IL": "Israel", "TR": "Turkey", "AR": "Argentina", "CO": "Colombia", "NI": "Nicaragua",
    "LS": "Lesotho",
}

# (code, regex). Case-sensitive: names are capitalised; order does not matter (longest wins).
_PARTY_SOURCES: tuple[tuple[str, str], ...] = (
    ("US", r"the\s+United\s+States|United\s+States(?:\s+of\s+America)?|U\.\s?S\.(?:\s?A\.)?"
           r"(?:-(?:made|origin))?|(?<![\w.])USA?(?![\w])(?:-made)?|America(?:n(?:-made)?|ns)?|"
           r"Washington|White\s+House|Trump\s+administration|the\s+administration|"
           r"(?:U\.S\.\s+)?President\s+(?:Donald\s+(?:J\.\s+)?)?Trump|Donald\s+(?:J\.\s+)?Trump|"
           r"Trump|(?:Treasury\s+Secretary\s+)?(?:Scott\s+)?Bessent|(?:Howard\s+)?Lutnick|"
           r"(?:Jamieson\s+)?Greer|(?:Peter\s+)?Navarro|(?:Marco\s+)?Rubio|(?:Kevin\s+)?Hassett|"
           r"USTR|CBP"),
    ("CN", r"China|Chinese|Beijing|PRC|(?:President\s+)?Xi(?:\s+Jinping)?|He\s+Lifeng|"
           r"(?:State\s+Council\s+|Customs\s+)?Tariff\s+Commission"),
    ("HK", r"Hong\s+Kong"),
    ("MO", r"Macau|Macao"),
    ("CA", r"Canada|Canadian|Ottawa|(?:Mark\s+)?Carney|(?:Justin\s+)?Trudeau"),
    ("MX", r"Mexico|Mexican|(?:Claudia\s+)?Sheinbaum"),
    ("EU", r"the\s+European\s+Union|European\s+Union|EU|E\.U\.|Brussels|European|Europe|"
           r"(?:Ursula\s+)?von\s+der\s+Leyen"),
    ("JP", r"Japan|Japanese|Tokyo"),
    ("IN", r"India|Indian|New\s+Delhi|Modi"),
    ("VN", r"Vietnam|Viet\s+Nam|Vietnamese|Hanoi"),
    ("GB", r"the\s+United\s+Kingdom|United\s+Kingdom|U\.K\.|UK|Britain|British|London"),
    ("KR", r"South\s+Korea|Korea|Korean|Seoul"),
    ("TW", r"Taiwan|Taiwanese|Taipei"),
    ("BR", r"Brazil|Brazilian|Brasilia|Lula"),
    ("CH", r"Switzerland|Swiss|Bern"),
    ("DE", r"Germany|German|Berlin"),
    ("FR", r"France|French|Paris"),
    ("IT", r"Italy|Italian|Rome"),
    ("AU", r"Australia|Australian|Canberra"),
    ("KH", r"Cambodia|Cambodian"),
    ("TH", r"Thailand|Thai"),
    ("ID", r"Indonesia|Indonesian|Jakarta"),
    ("MY", r"Malaysia|Malaysian"),
    ("RU", r"Russia|Russian|Moscow"),
    ("SG", r"Singapore"),
    ("PH", r"the\s+Philippines|Philippines|Filipino"),
    ("BD", r"Bangladesh"),
    ("ZA", r"South\s+Africa|South\s+African"),
    ("IL", r"Israel|Israeli"),
    ("TR", r"Turkey|Turkish|Türkiye"),
    ("AR", r"Argentina|Argentine"),
    ("CO", r"Colombia|Colombian"),
    ("NI", r"Nicaragua"),
    ("LS", r"Lesotho"),
)
PARTY_RES = tuple((code, re.compile(rf"(?<![\w-])(?:{src})(?![\w])")) for code, src in _PARTY_SOURCES)
PRONOUN_RE = re.compile(r"\b(?:[Hh]e|[Ss]he|[Ii]t|[Ii]ts|[Tt]hey|[Tt]heir|[Hh]is|[Hh]er)\b")
# names that contain a country but are not a party (outlets, companies, universities)
MASK_RE = re.compile(
    r"Reuters|Bloomberg|CNN|CNBC|Fox\s+Business(?:\s+Network)?|Fox\s+News|Breitbart|News\.Az|"
    r"Newsweek|Xinhua|Weibo|Yuyuan\s+Tantian|National\s+Retail\s+Federation|JP\s?Morgan|"
    r"Goldman\s+Sachs|National\s+University\s+of\s+Singapore|Bank\s+of\s+(?:America|China|Japan|"
    r"Canada|England)|America\s+First|Air\s+China|South\s+China\s+Morning\s+Post|China\s+Daily|"
    r"Global\s+Times|Canadian\s+Press|Voice\s+of\s+America|Washington\s+Post|"
    r"American\s+Chamber\s+of\s+Commerce|U\.S\.\s+Chamber\s+of\s+Commerce|"
    r"South\s+China\s+Sea|Indian\s+Ocean|New\s+Mexico|Washington\s+state"
)

# product groups: (pattern, label, engine search query, HTS prefixes that the hits must have)
_PRODUCT_GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (r"smart\s*phones?|(?:mobile|cell(?:ular)?)\s+phones?|iphones?", "smartphones", "smartphones",
     ("851713",)),
    (r"(?:micro)?chips|semiconductors?|integrated\s+circuits?|processors", "microchips",
     "electronic integrated circuits processors controllers", ("8542",)),
    (r"jet\s+engines?|aircraft\s+engines?|aero[- ]?engines?|turbojets?|turbofans?", "jet engines",
     "turbojets aircraft turbines", ("841111", "841112", "841191")),
    (r"pharmaceuticals?|pharma|medicines?|medicaments|(?:prescription\s+)?drugs", "pharmaceuticals",
     "medicaments", ("3003", "3004")),
    (r"(?:stainless\s+)?steel", "steel", "iron or nonalloy steel", ("72",)),
    (r"alumin(?:i)?um", "aluminum", "aluminum", ("76",)),
    (r"auto\s+parts|car\s+parts|automotive\s+parts|vehicle\s+parts", "auto parts",
     "parts and accessories of motor vehicles", ("8708",)),
    (r"cars|autos|automobiles|passenger\s+vehicles|(?:electric\s+)?vehicles|EVs", "cars",
     "passenger motor vehicles", ("87032", "87033", "87034", "87035", "87036", "87037", "87038")),
    (r"copper", "copper", "refined copper", ("74",)),
    (r"lumber|timber|softwood", "lumber", "wood sawn", ("4407",)),
    (r"laptops?|computers?|PCs", "computers", "portable automatic data processing machines",
     ("8471",)),
    (r"soybeans?|soya\s+beans?", "soybeans", "soybeans", ("1201",)),
    (r"ethane", "ethane", "ethane", ("290110",)),
    (r"aircraft|airplanes|planes|jets", "aircraft", "airplanes aircraft", ("8802",)),
    (r"solar\s+(?:panels?|cells?|modules?)", "solar panels", "photovoltaic cells", ("85414",)),
    (r"toys", "toys", "toys", ("9503",)),
    (r"furniture", "furniture", "furniture", ("9401", "9403")),
    (r"apparel|clothing|garments|textiles", "apparel", "garments", ("61", "62")),
    (r"pork", "pork", "meat of swine", ("0203",)),
    (r"beef", "beef", "meat of bovine animals", ("0201", "0202")),
    (r"chicken|poultry", "chicken", "meat of fowls chickens", ("0207",)),
    (r"coal", "coal", "coal", ("2701",)),
    (r"LNG|liquefied\s+natural\s+gas", "LNG", "natural gas liquefied", ("271111",)),
    (r"crude(?:\s+oil)?", "crude oil", "petroleum oils crude", ("2709",)),
    (r"wheat", "wheat", "wheat", ("1001",)),
    (r"corn|maize", "corn", "corn maize", ("1005",)),
    (r"cotton", "cotton", "cotton", ("5201",)),
    (r"lobsters?|seafood|aquatic\s+products", "seafood", "lobsters crustaceans fish", ("03",)),
    (r"(?:agricultural|farm)\s+machinery|tractors", "agricultural machinery",
     "agricultural harvesting machinery", ("8432", "8433", "8436", "8701")),
    (r"sorghum", "sorghum", "grain sorghum", ("1007",)),
    (r"dairy(?:\s+products)?|milk\s+powder|cheese", "dairy", "milk cream cheese", ("0401", "0402",
                                                                                   "0404", "0406")),
    (r"fruits?", "fruit", "fruit fresh", ("08",)),
    (r"vegetables", "vegetables", "vegetables fresh", ("07",)),
    (r"syringes|needles", "syringes", "syringes needles", ("901831", "901832")),
)
PRODUCT_RES = tuple((re.compile(rf"(?<![\w-])(?:{p})(?![\w])", re.I), label, query, prefixes)
                     for p, label, query, prefixes in _PRODUCT_GROUPS)
PRODUCT_LOOKUP = {label: (query, prefixes) for _, label, query, prefixes in _PRODUCT_GROUPS}
PRODUCT_ALT = "|".join(p for p, *_ in _PRODUCT_GROUPS)

TARIFF_NOUN = r"(?:tariffs?|dut(?:y|ies)|levy|levies|import\s+tax(?:es)?|surcharges?|" \
               r"counter-?measures?)"
TARIFF_RE = re.compile(rf"\b{TARIFF_NOUN}\b|\bretaliat", re.I)
GOODS_NOUN = r"(?:imports|import|goods|products|exports|shipments|items|merchandise|" \
              r"steel|aluminum|cars|autos|vehicles|chips|semiconductors|smartphones|electronics|" \
              r"soybeans|beans|chicken|pork|beef|wheat|corn|cotton|coal|LNG|crude|ethane|" \
              r"farm\s+goods|agricultural\s+products|produce)"
NUM = r"\d{1,3}(?:\.\d+)?"
PCT_UNIT = r"(?:\s*%|\s*-?\s*percent(?![\w])|\s*per\s*cent(?![\w]))"
_PP_UNIT = r"(?:\s*-?\s*percentage[- ]points?)"
RATE_RE = re.compile(
    rf"(?<![\w.$,])(?:(?P<lo>{NUM})(?:{PCT_UNIT})?\s*(?:to|-|–|—)\s*)?(?P<num>{NUM})"
    rf"(?P<unit>{_PP_UNIT}|{PCT_UNIT})",
    re.I,
)
_ADJ = (r"(?:ad\s+valorem|additional|extra|retaliatory|reciprocal|baseline|blanket|"
        r"across[- ]the[- ]board|import|punitive|counter|new|higher|lower|total|combined|cumulative|"
        r"overall|effective|minimum|flat|universal|global|general|special|emergency|"
        r"fentanyl(?:[- ]related)?|country[- ]specific|sectoral|section\s+\d+|steel|aluminum|auto|car|"
        r"U\.S\.|US|American|Chinese|China['’]s|Trump['’]s|[\"“”'‘’]|so[- ]called|"
        r"“reciprocal”|\"reciprocal\")")
RIGHT_ANCHOR_RE = re.compile(
    rf"^\s*(?:[-–]\s*)?(?:[\"“”]\s*)?(?:in\s+)?(?:{_ADJ}\s*){{0,4}}(?P<noun>(?:counter[- ]?)?tariffs?|"
    rf"dut(?:y|ies)|levy|levies|import\s+tax(?:es)?|tax(?:es)?|surcharges?|baseline|rate|"
    rf"border\s+tax|penalty|penalties|charge)\b",
    re.I,
)
LEFT_ANCHOR_RE = re.compile(
    r"(?P<noun>\b(?:tariffs?|dut(?:y|ies)|levy|levies|import\s+tax(?:es)?|surcharges?|rates?))\b"
    r"(?P<bridge>(?:[^.;:%!?]|(?<=\b[A-Z])\.){0,80}?)(?:\b(?:of|at|to|by|from|will\s+be|would\s+be|"
    r"is|was|are|were|be|stands?\s+at)\s+|,\s+(?:also\s+|now\s+|just\s+|only\s+)?)"
    r"(?:(?:a|an|the|staggering|whopping|massive|hefty|steep|new|total|combined|as\s+much\s+as|"
    r"as\s+high\s+as|up\s+to|nearly|almost|about|around|roughly|some|effective|an\s+effective|just|"
    r"only|over|more\s+than|record|now|currently|still|already)\s+)*$",
    re.I,
)
VERB_ANCHOR_RE = re.compile(
    r"\b(?P<verb>slap(?:s|ped|ping)?|impos(?:e|es|ed|ing)|levi(?:ed|es)|levy(?:ing)?|"
    r"plac(?:e|es|ed|ing)|put(?:s|ting)?|appl(?:y|ies|ied|ying)|charg(?:e|es|ed|ing)|"
    r"hit(?:s|ting)?|rais(?:e|es|ed|ing)|hik(?:e|es|ed|ing)|increas(?:e|es|ed|ing)|"
    r"lift(?:s|ed|ing)?|boost(?:s|ed|ing)?|cut(?:s|ting)?|lower(?:s|ed|ing)?|reduc(?:e|es|ed|ing)|"
    r"slash(?:es|ed|ing)?|trim(?:s|med|ming)?|eas(?:e|es|ed|ing)|set(?:s|ting)?|"
    r"fac(?:e|es|ed|ing)|bring(?:s|ing)?|brought|dropp?(?:ed|ing)?|rise|rises|rising|rose|risen|"
    r"go(?:es)?|went|climb(?:s|ed|ing)?|jump(?:s|ed|ing)?|reach(?:es|ed|ing)?|doubl(?:e|es|ed)|"
    r"tripl(?:e|es|ed)|respond(?:s|ed)?\s+with|retaliat(?:e|es|ed)\s+with|announc(?:e|es|ed)|"
    r"add(?:s|ed|ing)?|keep(?:s|ing)?|kept|retain(?:s|ed|ing)?|maintain(?:s|ed|ing)?|leav(?:e|es|ing)|"
    r"left|halv(?:e|es|ed|ing)|pa(?:y|ys|ying|id)|suspend(?:s|ed|ing)?)\b"
    r"(?P<obj>(?:[^.;:%!?]|(?<=\b[A-Z])\.){0,60}?)\s(?:(?:to|at|by|of|from|with)\s+)?"
    r"(?:(?:a|an|the|staggering|whopping|new|further|additional|extra|another)\s+)*$",
    re.I,
)
QUANTITY_AFTER_RE = re.compile(
    r"^\s*(?:(?:year[- ]over[- ]year|year[- ]on[- ]year|annual(?:ized)?|y/y|on[- ]year)\s+)?"
    r"(?:drop|decline|fall|plunge|slump|slide|dip|rise|increase|jump|surge|gain|growth|decrease|"
    r"contraction|reduction|share|stake|chance|probability|likelihood|majority|minority|"
    r"of\b(?!\s+(?:its|the|their|that|this)\s+(?:[\w-]+\s+)?(?:tariffs?|dut(?:y|ies)|levy|levies|rate)\b)|"
    r"more\b|less\b|fewer\b|lower\b|higher\b|down\b|up\b|off\b|below\b|above\b|cheaper|"
    r"year[- ]over[- ]year|year[- ]on[- ]year|in\s+(?:imports|exports|sales|trade|shipments|"
    r"prices|output|profits|revenue|gdp)|of\s+(?:gdp|imports|exports)|stake|owned|interest)",
    re.I,
)
QUANTITY_VERB_BEFORE_RE = re.compile(
    r"\b(?:fell|fall|falls|falling|rose|rises|rising|grew|grow|grows|growing|dropped|drops|"
    r"declined|declines|decline|plunged|jumped|surged|increased|decreased|slid|slipped|shrank|"
    r"contracted|expanded|climbed|gained|lost|tumbled|sank|soared|slumped|down|up|jump|surge|"
    r"drop|climb|slump|plunge|shrink|swung|swing)\s+"
    r"(?:by\s+)?(?:(?:at\s+least|about|around|nearly|almost|roughly|more\s+than|less\s+than|over|"
    r"some|an\s+estimated|just|only|a\s+further|another|as\s+much\s+as|as\s+little\s+as)\s+)*$",
    re.I,
)
QUANTITY_NOUN_RE = re.compile(
    r"\b(?:revenue|receipts|collections|prices|inflation|stocks?|shares|markets?|sales|output|"
    r"gdp|growth|exports|purchases|orders|bookings|shipments|demand|production|"
    r"imports\s+(?:fell|rose|dropped|declined|plunged|jumped|grew))\b",
    re.I,
)
MODAL_VERB_RE = re.compile(
    r"\b(?:could|would|might|may|will|shall|won['’]t|going\s+to|(?:plan(?:s|ned|ning)?|"
    r"expect(?:s|ed)?|want(?:s|ed)?|intend(?:s|ed)?|seek(?:s|ing)?|vow(?:s|ed)?|threaten(?:s|ed)?|"
    r"propos(?:e|es|ed))\s+to|(?:is|are|was|were)\s+(?:set|poised|slated|scheduled|due|likely|"
    r"expected)\s+to|likely\s+to)\s+(?:\w+\s+){0,2}?(?:impose|slap|levy|raise|hike|increase|lift|"
    r"cut|lower|reduce|rise|go|climb|reach|hit|top|exceed|jump|double|face|be|become|apply|set|put|"
    r"take|come|return|remain|stay|charge|add|triple|respond|retaliate|announce|introduce)\b",
    re.I,
)
# "Vietnam will pay 46%", "Chinese goods now pay an extra 10 percent", "Japan also gets 15%"
PAY_ANCHOR_RE = re.compile(
    r"\b(?P<verb>pa(?:y|ys|ying|id)|fac(?:e|es|ed|ing)|gets?|getting)\s+(?:(?:an?|the)\s+)?"
    r"(?:(?:extra|additional|flat|further|combined|total|roughly|about|around|nearly|some|full|"
    r"up\s+to|as\s+much\s+as|an\s+extra|a\s+flat)\s+)*$",
    re.I,
)
# economists' estimates of an average, not a rate the law sets
ESTIMATE_RE = re.compile(
    r"\b(?:average|averag(?:e|ing)|weighted|effective\s+(?:U\.S\.\s+)?(?:tariff\s+)?rate|"
    r"trade-weighted|estimat(?:e|es|ed)|forecast)\b", re.I)
# the words of a modal that makes a claim a possibility, not a statement of the law
CONDITIONAL_RE = re.compile(
    r"\b(?:(?:analysts?|economists?|investors?|traders?|markets?|forecasters?)\s+(?:\w+\s+)?"
    r"(?:expect|predict|forecast|see|bet)\w*|expect(?:s|ing)?\s+(?:\w+\s+){1,3}to\b|could|might|may(?!\s+\d)|threaten(?:s|ed|ing)?|propos(?:e|es|ed|ing|al)|"
    r"consider(?:s|ed|ing)?|weigh(?:s|ed|ing)?|mull(?:s|ed|ing)?|floated|warn(?:s|ed|ing)?\s+of|"
    r"if\b|unless\b|possibl[ey]|potential(?:ly)?)", re.I)
KEEP_RE = re.compile(r"\b(?:keep(?:s|ing)?|kept|retain(?:s|ed|ing)?|maintain(?:s|ed|ing)?|"
                     r"leav(?:e|es|ing)|left|extend(?:s|ed|ing)?|remain(?:s|ed|ing)?|stay(?:s|ed)?)\b",
                     re.I)
SUSPEND_RE = re.compile(r"\bsuspen(?:d|ds|ded|ding|sion)\b", re.I)
COMPOSITE_RE = re.compile(
    r"\b(?:total|totals|combined|cumulative|overall|altogether|all\s+told|in\s+all|stack(?:ed|ing)?|"
    r"up\s+to|as\s+(?:much|high)\s+as)\b", re.I)
UPTO_RE = re.compile(r"\b(?:up\s+to|as\s+(?:much|high)\s+as)\s+(?:about\s+)?$", re.I)
ALL_IN_RE = re.compile(
    r"\b(?:includ(?:es|ing)\s+(?:existing|the\s+(?:most[- ]favou?red[- ]nation|MFN|normal)|MFN|all)|"
    r"all[- ]in|inclusive\s+of|on\s+top\s+of\s+nothing)\b", re.I)
# claims that hedge ("nearly all", "most") do not claim every product
HEDGE_RE = re.compile(r"\b(?:nearly|almost|virtually|most|majority|much)\s+(?:of\s+)?(?:all|every|other)?",
                      re.I)
RETALIATION_RE = re.compile(r"\b(?:retaliat\w*|counter[- ]?(?:tariffs?|measures?)|respond\w*|"
                            r"hit\s+back|in\s+response)\b", re.I)

THREAT_RE = re.compile(
    r"\b(?:threaten(?:s|ed|ing)?|propos(?:e|es|ed|ing|al)|consider(?:s|ed|ing)?|weigh(?:s|ed|ing)?|"
    r"mull(?:s|ed|ing)?|floated|warn(?:s|ed|ing)?\s+of|if\b|unless\b|could\s+see|may\s+see)",
    re.I,
)
MODAL_AFTER_RE = re.compile(
    r"^[^.;]{0,50}?\b(?:(?:could|would|might|may|will)\s+(?:\w+\s+){0,2}?(?:take\s+effect|apply|"
    r"start|begin|kick\s+in|come|be\s+(?:imposed|introduced|applied|considered|raised|cut))|"
    r"(?:is|are)\s+being\s+(?:considered|weighed|discussed)|(?:was|were)\s+proposed|"
    r"under\s+consideration)",
    re.I,
)
EXEMPT_RE = re.compile(
    r"\b(?:exempt(?:s|ed|ing)?|exemptions?|waive[sd]?|waiving|waivers?|spare[sd]?|sparing|"
    r"carve[- ]outs?|exclu(?:de[sd]?|ding|sions?)|eas(?:e|es|ed|ing)\s+(?:of\s+)?(?:the\s+)?"
    r"(?:dut(?:y|ies)|tariffs?)|whitelist)\b",
    re.I,
)
DE_MINIMIS_RE = re.compile(r"\bde\s+minimis\b", re.I)
MONEY_RE = re.compile(
    r"\$\s?(?P<amt>\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?)(?P<scale>\s*(?:billion|million|"
    r"trillion|bn|mn|m|k)\b)?",
    re.I,
)
BELOW_RE = re.compile(
    r"(?:less\s+than|under|below|up\s+to|no\s+more\s+than|not\s+exceeding|at\s+most)\s+$", re.I
)
END_RE = re.compile(
    r"\b(?:end(?:s|ed|ing)?|scrap(?:s|ped|ping)?|eliminat(?:e|es|ed|ing)|clos(?:e|es|ed|ing)|"
    r"abolish(?:es|ed|ing)?|revok(?:e|es|ed|ing)|terminat(?:e|es|ed|ing)|suspend(?:s|ed|ing)?|"
    r"kill(?:s|ed|ing)?|remov(?:e|es|ed|ing)|strip(?:s|ped|ping)?|lift(?:s|ed|ing)?|"
    r"shut(?:s|ting)?|no\s+longer|expired?)\b",
    re.I,
)
RESTORE_RE = re.compile(r"\b(?:restor(?:e|es|ed|ing)|reinstat(?:e|es|ed|ing))\b", re.I)
RAISE_RE = re.compile(
    r"\b(?:rais(?:e|es|ed|ing)|hik(?:e|es|ed|ing)|increas(?:e|es|ed|ing)|lift(?:s|ed|ing)?\s+\w*\s*"
    r"to|boost(?:s|ed|ing)?|jack(?:s|ed)?\s+up|ratchet(?:s|ed)?\s+up|doubl(?:e|es|ed)|"
    r"tripl(?:e|es|ed)|rose|rise[sn]?|rising|climb(?:s|ed|ing)?|jump(?:s|ed|ing)?|went\s+up|"
    r"escalat(?:e|es|ed|ing))\b",
    re.I,
)
CUT_RE = re.compile(
    r"\b(?:cut(?:s|ting)?|lower(?:s|ed|ing)?|reduc(?:e|es|ed|ing)|slash(?:es|ed|ing)?|"
    r"trim(?:s|med|ming)?|eas(?:e|es|ed|ing)|dropp(?:ed|ing)|brought\s+down|bring(?:s|ing)?\s+down|"
    r"roll(?:s|ed|ing)?\s+back|fell|fall(?:s|ing)?|de-?escalat(?:e|es|ed|ing))\b",
    re.I,
)
IMPOSE_RE = re.compile(   # not "levies": far more often the noun ("U.S. levies stood at 145%")
    r"\b(?:slap(?:s|ped|ping)?|impos(?:e|es|ed|ing)|levied|levying|plac(?:e|es|ed|ing)|"
    r"put(?:s|ting)?|appl(?:y|ies|ied|ying)|introduc(?:e|es|ed|ing)|announc(?:e|es|ed|ing)|"
    r"unveil(?:s|ed|ing)?|respond(?:s|ed)?\s+with|retaliat(?:e|es|ed)\s+with|hit(?:s|ting)?)\b",
    re.I,
)
UNIVERSAL_RE = re.compile(
    r"\b(?:all|every|across[- ]the[- ]board|blanket|universal|everything)\b", re.I
)
ALL_IMPORTS_RE = re.compile(
    r"\b(?:(?:on\s+)?(?:nearly\s+|almost\s+|virtually\s+)?all\s+(?:U\.S\.\s+)?imports|"
    r"all\s+(?:countries|trading\s+partners|nations)|(?:a\s+)?(?:10\s*(?:%|percent)\s+)?"
    r"baseline|universal\s+tariff|global\s+tariffs?|worldwide\s+tariffs?|"
    r"every\s+(?:country|trading\s+partner)|imports\s+from\s+(?:all|every)\b|"
    r"(?:nearly|almost|virtually)\s+every\s+(?:country|nation|trading\s+partner)|"
    r"(?:most|all)\s+(?:other\s+)?(?:trading\s+)?partners|most\s+(?:other\s+)?countries|"
    r"(?:all|every)\s+(?:foreign\s+)?(?:countries|country))",
    re.I,
)
MEASURE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reciprocal", re.compile(r"\breciprocal\b", re.I)),
    ("baseline", re.compile(r"\bbaseline\b", re.I)),
    ("fentanyl", re.compile(r"\bfentanyl\b", re.I)),
    ("retaliatory", re.compile(r"\bretaliat", re.I)),
    ("section 232", re.compile(r"\bsection\s+232\b", re.I)),
    ("section 301", re.compile(r"\bsection\s+301\b", re.I)),
    ("section 122", re.compile(r"\bsection\s+122\b", re.I)),
)


def clause_left(s: str, pos: int, width: int = 90) -> str:
    """The text before ``pos`` back to the start of its clause (at most ``width`` characters)."""
    left = s[max(0, pos - width):pos]
    cut = max(left.rfind(";"), left.rfind(":"), left.rfind("—"), left.rfind(" – "), left.rfind("("))
    for m in re.finditer(r",\s+(?:and|but|while|whereas|as)\s+", left):
        cut = max(cut, m.end() - 1)
    return left[cut + 1:] if cut >= 0 else left
