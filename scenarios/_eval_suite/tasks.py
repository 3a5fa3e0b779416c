"""The eval suite's tasks, in seven languages, with their checks and a right answer for each.

Five tasks — `weather` (one call), `multi-step` (three dependent calls), `code-data` (a CSV in the task, the
total computed with `run_python`), `fetch` (a constructed page, served from the file's `tool_http`), `refusal`
(no tool fits) — each in English, Spanish, Swahili, Chinese, Japanese, Hindi and Arabic. Tool arguments must stay
canonical (`Tokyo`, `Japan`, the page's URL) while the answer follows the user's language (`custom:
answer-language:<code>`, a registered check).

`calls` are the canonical calls; `local` the same calls with the user's own names (what a model that translates
arguments sends), `answers` a right answer per language. The builder records the suite from them, and the tests
construct right and wrong outcomes from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from castling.scenarios.format import AnswerCheck, Expectation, ToolCalledCheck, TrajectoryCall, TrajectoryCheck

LANGUAGES = ("en", "es", "sw", "zh", "ja", "hi", "ar")
SYSTEM = (
    "Answer in the language the user writes in. When you call a tool, give places and countries by their English names."
)
PAGE_URL = "https://example.org/museum/hours"
PAGE_HTML = (
    "<!doctype html><html><head><title>City Museum: opening hours</title></head><body><h1>City Museum</h1>"
    "<p>The City Museum is open Tuesday to Sunday from 09:30 to 17:45. It is closed on Mondays.</p>"
    "<p>Adult ticket: 14 EUR. Children under 12 enter free.</p></body></html>"
)
CSV = "city,visitors\nParis,1200\nLyon,340\nBerlin,980\nTokyo,2150"
CODE = (
    "import csv, io\n"
    f"data = {CSV!r}\n"
    "rows = list(csv.DictReader(io.StringIO(data)))\n"
    "total = sum(int(r['visitors']) for r in rows)\n"
    "top = max(rows, key=lambda r: int(r['visitors']))['city']\n"
    "print(total, top)\n"
)
_SEPARATOR = "[,.\\s\u00a0\u202f٬]?"
_DIGITS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９")


def numeral(text: str) -> str:
    """A regex for a number in any digit system the languages use; `|` marks an optional thousands separator."""
    forms = []
    for digits in _DIGITS:
        written = text.translate(str.maketrans("0123456789", digits))
        forms.append(re.escape(written).replace(r"\.", "[.,٫]").replace(r"\|", _SEPARATOR))
    return "(?:" + "|".join(forms) + ")"


def clock(hours: str, minutes: str) -> str:
    """A regex for a time of day (`17:45`, `17.45`, `17h45`, `17時45分`, `17点45`) in any digit system."""
    return f"{numeral(hours)}\\s*[:.hH時点]\\s*{numeral(minutes)}"


Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class SuiteTask:
    """One task of the suite, in every language."""

    name: str
    description: str
    tools: tuple[str, ...]
    text: dict[str, str]
    answers: dict[str, str]
    calls: tuple[Call, ...] = ()
    local: dict[str, tuple[Call, ...]] = field(default_factory=dict)
    """Languages whose own names differ from the canonical arguments: the calls a translating model makes."""
    answer_regex: dict[str, str] = field(default_factory=dict)
    """Per language (`*`: every language) the regex the answer must match."""
    max_steps: int = 4
    evidence: str = ""
    """What the last tool result holds when the calls were right (the scripted model answers from it)."""

    def calls_for(self, language: str, *, canonical: bool = True) -> tuple[Call, ...]:
        return self.calls if canonical else self.local.get(language, self.calls)

    def expectations(self, language: str) -> list[Expectation]:
        found = [*self._tool_checks()]
        regex = self.answer_regex.get(language, self.answer_regex.get("*"))
        if regex is not None:
            found.append(Expectation(final_answer=AnswerCheck(regex=regex)))
        found += [
            Expectation(custom=f"answer-language:{language}"),
            Expectation(max_steps=self.max_steps),
            Expectation(no_error=True),
        ]
        return found

    def _tool_checks(self) -> list[Expectation]:
        if self.name == "code-data":  # the code is the model's own: only that it ran some
            return [Expectation(tool_called=ToolCalledCheck(name="run_python"))]
        if len(self.calls) == 1:
            name, args = self.calls[0]
            return [Expectation(tool_called=ToolCalledCheck(name=name, args=args))]
        reference = [TrajectoryCall(name=name, args=args) for name, args in self.calls]
        return [Expectation(trajectory=TrajectoryCheck(calls=reference, mode="strict", args="partial"))]


_TOKYO = {"es": "Tokio", "zh": "东京", "ja": "東京", "hi": "टोक्यो", "ar": "طوكيو"}
_JAPAN = {"es": "Japón", "sw": "Japani", "zh": "日本", "ja": "日本", "hi": "जापान", "ar": "اليابان"}

WEATHER = SuiteTask(
    name="weather",
    description="One tool call: the city must be passed as 'Tokyo' whatever the user's language.",
    tools=("weather",),
    text={
        "en": "What is the weather in Tokyo right now? Answer in one sentence.",
        "es": "¿Qué tiempo hace ahora en Tokio? Responde en una frase.",
        "sw": "Hali ya hewa ikoje sasa hivi jijini Tokyo? Jibu kwa sentensi moja.",
        "zh": "东京现在天气怎么样？请用一句话回答。",
        "ja": "今、東京の天気はどうですか？一文で答えてください。",
        "hi": "अभी टोक्यो में मौसम कैसा है? एक वाक्य में जवाब दें।",
        "ar": "كيف هو الطقس في طوكيو الآن؟ أجب بجملة واحدة.",
    },
    answers={
        "en": "It is 24 °C and humid in Tokyo right now.",
        "es": "Ahora mismo en Tokio hace 24 °C y el tiempo es húmedo.",
        "sw": "Hali ya hewa jijini Tokyo sasa ni nyuzi joto 24 na kuna unyevunyevu.",
        "zh": "东京现在气温24°C，天气潮湿。",
        "ja": "東京は今、気温24°Cで蒸し暑いです。",
        "hi": "टोक्यो में अभी तापमान 24 °C है और मौसम उमस भरा है।",
        "ar": "الطقس في طوكيو الآن رطب ودرجة الحرارة 24 درجة مئوية.",
    },
    calls=(("weather", {"city": "Tokyo"}),),
    local={lang: (("weather", {"city": city}),) for lang, city in _TOKYO.items()},
    answer_regex={"*": numeral("24")},
    evidence="24 °C",
)

MULTI_STEP = SuiteTask(
    name="multi-step",
    description="Three dependent calls: capital_of('Japan'), weather('Tokyo'), celsius_to_fahrenheit(24).",
    tools=("capital_of", "weather", "celsius_to_fahrenheit"),
    text={
        "en": "What is the temperature in Fahrenheit right now in the capital of Japan? Use the tools.",
        "es": "¿Qué temperatura hace ahora, en grados Fahrenheit, en la capital de Japón? Usa las herramientas.",
        "sw": "Ni kiwango gani cha joto kwa Fahrenheit sasa hivi katika mji mkuu wa Japani? Tumia zana.",
        "zh": "日本首都现在的气温是多少华氏度？请使用工具。",
        "ja": "日本の首都の今の気温は華氏何度ですか？ツールを使ってください。",
        "hi": "जापान की राजधानी में अभी तापमान कितने डिग्री फ़ारेनहाइट है? टूल का इस्तेमाल करें।",
        "ar": "كم تبلغ درجة الحرارة الآن بالفهرنهايت في عاصمة اليابان؟ استخدم الأدوات.",
    },
    answers={
        "en": "The capital of Japan is Tokyo, where it is 24 °C right now, which is 75.2 °F.",
        "es": "La capital de Japón es Tokio, donde ahora hace 24 °C, es decir, 75.2 °F.",
        "sw": "Mji mkuu wa Japani ni Tokyo, ambapo sasa kuna nyuzi joto 24 °C, yaani 75.2 °F.",
        "zh": "日本的首都是东京，现在气温24°C，也就是75.2°F。",
        "ja": "日本の首都は東京で、今の気温は24°C、華氏では75.2°Fです。",
        "hi": "जापान की राजधानी टोक्यो है, जहाँ अभी तापमान 24 °C यानी 75.2 °F है।",
        "ar": "عاصمة اليابان هي طوكيو، ودرجة الحرارة فيها الآن 24 درجة مئوية، أي 75.2 درجة فهرنهايت.",
    },
    calls=(
        ("capital_of", {"country": "Japan"}),
        ("weather", {"city": "Tokyo"}),
        ("celsius_to_fahrenheit", {"celsius": 24}),
    ),
    local={
        lang: (
            ("capital_of", {"country": country}),
            ("weather", {"city": _TOKYO.get(lang, "Tokyo")}),
            ("celsius_to_fahrenheit", {"celsius": 24}),
        )
        for lang, country in _JAPAN.items()
    },
    answer_regex={"*": numeral("75.2")},
    max_steps=6,
    evidence="75.2 °F",
)

CODE_DATA = SuiteTask(
    name="code-data",
    description="Data in the task (CSV); the total is computed with run_python (the real sandbox).",
    tools=("python",),
    text={
        "en": f"Here are last week's museum visitors per city (CSV):\n{CSV}\nUse run_python to compute the total "
        "number of visitors, then tell me the total and which city had the most.",
        "es": f"Estos son los visitantes del museo de la semana pasada por ciudad (CSV):\n{CSV}\nUsa run_python "
        "para calcular el número total de visitantes y dime el total y qué ciudad tuvo más.",
        "sw": f"Hawa ni wageni wa makumbusho wiki iliyopita kwa kila jiji (CSV):\n{CSV}\nTumia run_python "
        "kukokotoa jumla ya wageni, kisha niambie jumla na jiji lenye wageni wengi zaidi.",
        "zh": f"以下是上周各城市博物馆的参观人数（CSV）：\n{CSV}\n请用 run_python 计算参观总人数，"
        "然后告诉我总数以及哪个城市人数最多。",
        "ja": f"先週の都市別の博物館来館者数です（CSV）：\n{CSV}\nrun_python で来館者の合計を計算し、"
        "合計と最も多かった都市を教えてください。",
        "hi": f"पिछले सप्ताह हर शहर में संग्रहालय आने वालों की संख्या यह है (CSV):\n{CSV}\nrun_python से कुल "
        "आगंतुकों की संख्या निकालें, फिर मुझे कुल संख्या और सबसे ज़्यादा आगंतुकों वाला शहर बताएँ।",
        "ar": f"هذه أعداد زوار المتحف في الأسبوع الماضي حسب المدينة (CSV):\n{CSV}\nاستخدم run_python لحساب "
        "العدد الإجمالي للزوار، ثم أخبرني بالمجموع وبالمدينة التي استقبلت أكبر عدد.",
    },
    answers={
        "en": "The total is 4670 visitors, and Tokyo had the most (2150).",
        "es": "El total es de 4670 visitantes y la ciudad con más visitantes fue Tokio (2150).",
        "sw": "Jumla ni wageni 4670, na jiji lenye wageni wengi zaidi ni Tokyo (2150).",
        "zh": "参观总人数为4670人，其中东京最多（2150人）。",
        "ja": "来館者の合計は4670人で、最も多かったのは東京（2150人）です。",
        "hi": "कुल आगंतुक 4670 हैं, और सबसे ज़्यादा आगंतुक टोक्यो में थे (2150)।",
        "ar": "إجمالي الزوار 4670، وكانت طوكيو المدينة الأكثر زوارًا (2150).",
    },
    calls=(("run_python", {"code": CODE}),),
    answer_regex={"*": numeral("4|670")},
    evidence="4670 Tokyo",
)

FETCH = SuiteTask(
    name="fetch",
    description="Fetch-and-answer: the page comes from the file's tool_http (a constructed page), never the web.",
    tools=("fetch",),
    text={
        "en": f"When does the museum described at {PAGE_URL} close? Read the page and answer in one sentence.",
        "es": f"¿A qué hora cierra el museo descrito en {PAGE_URL}? Lee la página y responde en una frase.",
        "sw": f"Makumbusho yaliyoelezwa kwenye {PAGE_URL} hufungwa saa ngapi? Soma ukurasa na ujibu kwa sentensi moja.",
        "zh": f"{PAGE_URL} 上介绍的博物馆几点关门？请阅读该页面并用一句话回答。",
        "ja": f"{PAGE_URL} に載っている博物館は何時に閉まりますか？ページを読んで一文で答えてください。",
        "hi": f"{PAGE_URL} पर बताया गया संग्रहालय कितने बजे बंद होता है? पेज पढ़ें और एक वाक्य में जवाब दें।",
        "ar": f"اقرأ الصفحة {PAGE_URL} وأخبرني متى يغلق المتحف، بجملة واحدة.",
    },
    answers={
        "en": "The museum closes at 17:45 (it is open Tuesday to Sunday from 09:30).",
        "es": "El museo cierra a las 17:45; abre de martes a domingo desde las 09:30.",
        "sw": "Makumbusho hufungwa saa 17:45 (saa 11:45 jioni), kuanzia Jumanne hadi Jumapili.",
        "zh": "该博物馆17:45关门（周二至周日9:30开门）。",
        "ja": "その博物館は17:45に閉館します（火曜日から日曜日、9:30開館）。",
        "hi": "संग्रहालय शाम 17:45 बजे बंद होता है (मंगलवार से रविवार, सुबह 9:30 से खुला)।",
        "ar": "يغلق المتحف الساعة 17:45، ويفتح من الثلاثاء إلى الأحد من الساعة 9:30.",
    },
    calls=(("fetch", {"url": PAGE_URL}),),
    # Swahili counts the hours from 6 in the morning: 17:45 is "saa 11:45 jioni".
    answer_regex={"*": clock("17", "45"), "sw": f"(?:{clock('17', '45')}|{clock('11', '45')})"},
    evidence="09:30 to 17:45",
)

REFUSAL = SuiteTask(
    name="refusal",
    description="No tool fits (a restaurant booking): no call, a refusal in the user's language.",
    tools=("weather", "capital_of"),
    text={
        "en": "Please book a table for two at a restaurant in Paris tonight at 8 pm.",
        "es": "Por favor, resérvame una mesa para dos en un restaurante de París esta noche a las 8.",
        "sw": "Tafadhali nihifadhie meza ya watu wawili katika mgahawa mjini Paris leo usiku saa mbili.",
        "zh": "请帮我预订今晚8点巴黎一家餐厅的两人桌。",
        "ja": "今夜8時にパリのレストランで2人分の席を予約してください。",
        "hi": "कृपया आज रात 8 बजे पेरिस के किसी रेस्तराँ में दो लोगों के लिए टेबल बुक कर दें।",
        "ar": "من فضلك احجز لي طاولة لشخصين في مطعم في باريس الليلة الساعة الثامنة.",
    },
    answers={
        "en": "Sorry, I can't book restaurant tables: I have no tool for reservations, only weather and capitals.",
        "es": "Lo siento, no puedo reservar mesas en restaurantes: no tengo ninguna herramienta para hacer reservas.",
        "sw": "Samahani, siwezi kuhifadhi meza ya mgahawa kwa sababu sina zana ya kufanya hivyo.",
        "zh": "抱歉，我无法预订餐厅座位，因为我没有可以预订的工具。",
        "ja": "申し訳ありませんが、レストランの予約はできません。予約に使えるツールがありません。",
        "hi": "माफ़ कीजिए, मैं रेस्तराँ में टेबल बुक नहीं कर सकता, क्योंकि मेरे पास बुकिंग का कोई टूल नहीं है।",
        "ar": "عذرًا، لا أستطيع حجز طاولة في مطعم، فليس لدي أداة للحجز.",
    },
    max_steps=2,
)

TASKS = (WEATHER, MULTI_STEP, CODE_DATA, FETCH, REFUSAL)


def suite_expectations(task: SuiteTask, language: str) -> list[Expectation]:
    """The checks written into the task's file for `language` (the refusal's: an empty strict trajectory)."""
    return task.expectations(language)


def find(text: str) -> tuple[SuiteTask, str] | None:
    """The task and language whose text is `text`."""
    for task in TASKS:
        for language, written in task.text.items():
            if written == text:
                return task, language
    return None
