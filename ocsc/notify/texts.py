"""Every text OCSC sends, per reason and language: edit here.

Each reason (what happened, as `rules.py` names it) has, in English, Urdu and Pashto:

- `title` — the push notification's and in-app item's heading, and the e-mail's subject;
- `sms`   — the text message, and the body of push and in-app notifications. Keep it within
  one SMS: 160 characters in English (GSM-7), only 70 in Urdu and Pashto (Unicode), counted
  with the placeholders filled (tests/notify/test_texts.py measures them). Keep
  {tracking_no} in every text about an application;
- `text`  — optional: a longer body for e-mail, push and in-app, when the SMS is cut short.

The e-mail is `EMAIL[language]` around the text. Placeholders: {tracking_no} {service}
{step} {role} {comment} {due} {amount} {currency} {challan} {organization} {count} {list}
{level} {state} {name} {link} {profile}; a missing value is left empty. Texts a person reads
in SMS are shortened only in {comment}, {service}, {step} and {list}, never elsewhere.
"""

from typing import Final

Texts = dict[str, dict[str, str]]  # language → {"title", "sms", "text"?}

TEXTS: Final[dict[str, Texts]] = {
    # --- to the applicant ---------------------------------------------------------------
    "submitted": {
        "en": {
            "title": "Application received",
            "sms": "{tracking_no}: your application for {service} has been received. "
            "Keep this number to follow it.",
        },
        "ur": {
            "title": "درخواست موصول ہو گئی",
            "sms": "آپ کی درخواست موصول ہو گئی ہے۔ ٹریکنگ نمبر: {tracking_no}",
            "text": "آپ کی درخواست ({service}) موصول ہو گئی ہے۔ ٹریکنگ نمبر: {tracking_no}۔ "
            "اس نمبر سے آپ اپنی درخواست کی صورتحال جان سکتے ہیں۔",
        },
        "ps": {
            "title": "غوښتنلیک ترلاسه شو",
            "sms": "ستاسو غوښتنلیک ترلاسه شو. د تعقیب شمېره: {tracking_no}",
            "text": "ستاسو غوښتنلیک ({service}) ترلاسه شو. د تعقیب شمېره: {tracking_no}. "
            "په دې شمېرې د خپل غوښتنلیک حال معلومولی شئ.",
        },
    },
    "progress": {
        "en": {
            "title": "Your application has moved on",
            "sms": "{tracking_no}: your application is now at the step: {step}.",
        },
        "ur": {
            "title": "درخواست اگلے مرحلے میں",
            "sms": "{tracking_no}: آپ کی درخواست اب اس مرحلے پر ہے: {step}",
        },
        "ps": {
            "title": "غوښتنلیک بل پړاو ته ورسېد",
            "sms": "{tracking_no}: ستاسو غوښتنلیک اوس په دې پړاو کې دی: {step}",
        },
    },
    "needs_you": {
        "en": {
            "title": "Your application is waiting for you",
            "sms": "{tracking_no}: your application is waiting for you ({step}). {comment}",
        },
        "ur": {
            "title": "درخواست آپ کی منتظر ہے",
            "sms": "{tracking_no}: درخواست آپ کی منتظر ہے ({step})۔ {comment}",
        },
        "ps": {
            "title": "غوښتنلیک ستاسو په تمه دی",
            "sms": "{tracking_no}: غوښتنلیک ستاسو په تمه دی ({step}). {comment}",
        },
    },
    "fee_due": {
        "en": {
            "title": "Fee due",
            "sms": "{tracking_no}: please pay the fee of {currency} {amount}, challan {challan}, "
            "then tell us in the app.",
        },
        "ur": {
            "title": "فیس ادا کریں",
            "sms": "{tracking_no}: فیس {currency} {amount} ادا کریں، چالان {challan}",
        },
        "ps": {
            "title": "فیس ورکړئ",
            "sms": "{tracking_no}: فیس {currency} {amount} ورکړئ، چالان {challan}",
        },
    },
    "completed": {
        "en": {
            "title": "Application completed",
            "sms": "{tracking_no}: your application is complete: {step}. {comment}",
        },
        "ur": {
            "title": "درخواست مکمل ہو گئی",
            "sms": "{tracking_no}: آپ کی درخواست مکمل ہو گئی: {step}۔ {comment}",
        },
        "ps": {
            "title": "غوښتنلیک بشپړ شو",
            "sms": "{tracking_no}: ستاسو غوښتنلیک بشپړ شو: {step}. {comment}",
        },
    },
    "rejected": {
        "en": {
            "title": "Application rejected",
            "sms": "{tracking_no}: your application was rejected. Reason: {comment}",
        },
        "ur": {
            "title": "درخواست مسترد",
            "sms": "{tracking_no}: آپ کی درخواست مسترد کر دی گئی۔ وجہ: {comment}",
        },
        "ps": {
            "title": "غوښتنلیک رد شو",
            "sms": "{tracking_no}: ستاسو غوښتنلیک رد شو. لامل: {comment}",
        },
    },
    "closed": {
        "en": {
            "title": "Application closed",
            "sms": "{tracking_no}: your application was closed: {step}. You may apply again.",
        },
        "ur": {
            "title": "درخواست بند",
            "sms": "{tracking_no}: آپ کی درخواست بند ہو گئی: {step}",
            "text": "{tracking_no}: آپ کی درخواست بند ہو گئی: {step}۔ "
            "آپ دوبارہ درخواست دے سکتے ہیں۔",
        },
        "ps": {
            "title": "غوښتنلیک وتړل شو",
            "sms": "{tracking_no}: ستاسو غوښتنلیک وتړل شو: {step}",
            "text": "{tracking_no}: ستاسو غوښتنلیک وتړل شو: {step}. تاسو بیا غوښتنلیک ورکولی شئ.",
        },
    },
    "comment": {
        "en": {
            "title": "New message on your application",
            "sms": "{tracking_no}: {role} wrote: {comment}",
        },
        "ur": {
            "title": "درخواست پر نیا پیغام",
            "sms": "{tracking_no}: {role} کا پیغام: {comment}",
        },
        "ps": {
            "title": "په غوښتنلیک نوی پیغام",
            "sms": "{tracking_no}: د {role} پیغام: {comment}",
        },
    },
    "documents": {
        "en": {
            "title": "Document added",
            "sms": "{tracking_no}: {role} added a document to your application.",
        },
        "ur": {
            "title": "دستاویز شامل کی گئی",
            "sms": "{tracking_no}: {role} نے آپ کی درخواست میں دستاویز شامل کی۔",
        },
        "ps": {
            "title": "سند ورزیات شو",
            "sms": "{tracking_no}: {role} ستاسو غوښتنلیک ته سند ورزیات کړ.",
        },
    },
    "timeout_reminder": {
        "en": {
            "title": "Reminder: your application is waiting for you",
            "sms": "{tracking_no}: please respond by {due}, or your application will be closed.",
        },
        "ur": {
            "title": "یاد دہانی: درخواست آپ کی منتظر ہے",
            "sms": "{tracking_no}: {due} تک جواب دیں، ورنہ درخواست بند ہوگی",
        },
        "ps": {
            "title": "یادونه: غوښتنلیک ستاسو په تمه دی",
            "sms": "{tracking_no}: تر {due} ځواب ورکړئ، کنه غوښتنلیک تړل کېږي",
        },
    },
    # --- to officials -------------------------------------------------------------------
    "work": {
        "en": {
            "title": "New work: {tracking_no}",
            "sms": "{tracking_no}: new work for you: {step} ({service}). Due {due}.",
        },
        "ur": {
            "title": "نیا کام: {tracking_no}",
            "sms": "{tracking_no}: آپ کے لیے نیا کام: {step}۔ آخری تاریخ {due}",
        },
        "ps": {
            "title": "نوی کار: {tracking_no}",
            "sms": "{tracking_no}: ستاسو لپاره نوی کار: {step}. وروستۍ نېټه {due}",
        },
    },
    "assigned": {
        "en": {
            "title": "Assigned to you: {tracking_no}",
            "sms": "{tracking_no}: {step} has been assigned to you. Due {due}.",
        },
        "ur": {
            "title": "آپ کے سپرد: {tracking_no}",
            "sms": "{tracking_no}: {step} آپ کے سپرد کر دیا گیا۔ آخری تاریخ {due}",
        },
        "ps": {
            "title": "تاسو ته وسپارل شو: {tracking_no}",
            "sms": "{tracking_no}: {step} تاسو ته وسپارل شو. وروستۍ نېټه {due}",
        },
    },
    "citizen_comment": {
        "en": {
            "title": "The applicant wrote: {tracking_no}",
            "sms": "{tracking_no}: the applicant wrote: {comment}",
        },
        "ur": {
            "title": "درخواست گزار کا پیغام: {tracking_no}",
            "sms": "{tracking_no}: درخواست گزار کا پیغام: {comment}",
        },
        "ps": {
            "title": "د غوښتونکي پیغام: {tracking_no}",
            "sms": "{tracking_no}: د غوښتونکي پیغام: {comment}",
        },
    },
    "citizen_documents": {
        "en": {
            "title": "The applicant added documents: {tracking_no}",
            "sms": "{tracking_no}: the applicant added documents ({step}).",
        },
        "ur": {
            "title": "درخواست گزار نے دستاویزات شامل کیں: {tracking_no}",
            "sms": "{tracking_no}: درخواست گزار نے دستاویزات شامل کیں ({step})۔",
        },
        "ps": {
            "title": "غوښتونکي سندونه ورزیات کړل: {tracking_no}",
            "sms": "{tracking_no}: غوښتونکي سندونه ورزیات کړل ({step}).",
        },
    },
    "reminder": {
        "en": {
            "title": "Due soon: {tracking_no}",
            "sms": "{tracking_no}: reminder, {step} falls due {due}.",
        },
        "ur": {
            "title": "یاد دہانی: {tracking_no}",
            "sms": "{tracking_no}: یاد دہانی، {step} کی آخری تاریخ {due} ہے۔",
        },
        "ps": {
            "title": "یادونه: {tracking_no}",
            "sms": "{tracking_no}: یادونه، د {step} وروستۍ نېټه {due} ده.",
        },
    },
    "escalated": {
        "en": {
            "title": "Late work: {tracking_no}",
            "sms": "{tracking_no}: {step} ({role}) is late since {due}. "
            "Escalated to you, level {level}.",
        },
        "ur": {
            "title": "تاخیر: {tracking_no}",
            "sms": "{tracking_no}: {step} ({role}) {due} سے تاخیر کا شکار ہے۔ "
            "آپ کو بھیجا گیا، درجہ {level}",
        },
        "ps": {
            "title": "ځنډ: {tracking_no}",
            "sms": "{tracking_no}: {step} ({role}) له {due} راهیسې ځنډېدلی. "
            "تاسو ته ولېږل شو، کچه {level}",
        },
    },
    "digest": {
        "en": {
            "title": "Overdue work: {count}",
            "sms": "{organization}: {count} steps are overdue. Longest late: {list}",
        },
        "ur": {
            "title": "تاخیر شدہ کام: {count}",
            "sms": "{organization}: {count} کام تاخیر کا شکار ہیں۔ سب سے پرانے: {list}",
        },
        "ps": {
            "title": "ځنډېدلي کارونه: {count}",
            "sms": "{organization}: {count} کارونه ځنډېدلي دي. تر ټولو زاړه: {list}",
        },
    },
    # --- replies to texts received (SMS in) ---------------------------------------------
    "status_reply": {
        "en": {"title": "Status", "sms": "{tracking_no}: {state}. Now at: {step}. Due {due}."},
        "ur": {
            "title": "صورتحال",
            "sms": "{tracking_no}: {state}۔ مرحلہ: {step}۔ آخری تاریخ {due}",
        },
        "ps": {
            "title": "حالت",
            "sms": "{tracking_no}: {state}. پړاو: {step}. وروستۍ نېټه {due}",
        },
    },
    "closed_reply": {
        "en": {"title": "Status", "sms": "{tracking_no}: {state} ({step})."},
        "ur": {"title": "صورتحال", "sms": "{tracking_no}: {state} ({step})۔"},
        "ps": {"title": "حالت", "sms": "{tracking_no}: {state} ({step})."},
    },
    "unknown_reply": {
        "en": {
            "title": "Not found",
            "sms": "No application {tracking_no} for this number. "
            "Send STATUS and your tracking number, e.g. STATUS MDN-26-000123.",
        },
        "ur": {
            "title": "نہیں ملی",
            "sms": "اس نمبر پر {tracking_no} کی کوئی درخواست نہیں۔ STATUS اور ٹریکنگ نمبر بھیجیں",
        },
        "ps": {
            "title": "ونه موندل شو",
            "sms": "په دې شمېره {tracking_no} غوښتنلیک نشته. STATUS او د تعقیب شمېره ولېږئ",
        },
    },
    "help_reply": {
        "en": {
            "title": "Help",
            "sms": "e-TMA: send STATUS and your tracking number, e.g. STATUS MDN-26-000123, "
            "to learn where your application is.",
        },
        "ur": {
            "title": "مدد",
            "sms": "درخواست کی صورتحال کے لیے STATUS اور ٹریکنگ نمبر بھیجیں",
        },
        "ps": {
            "title": "مرسته",
            "sms": "د غوښتنلیک د حال لپاره STATUS او د تعقیب شمېره ولېږئ",
        },
    },
}

# Where an application stands, in a few words (the categories of DESIGN.md section 3).
STATES: Final[dict[str, dict[str, str]]] = {
    "open": {"en": "In progress", "ur": "کارروائی جاری ہے", "ps": "کار پرې روان دی"},
    "waiting_citizen": {"en": "Waiting for you", "ur": "آپ کی منتظر", "ps": "ستاسو په تمه"},
    "closed_ok": {"en": "Completed", "ur": "مکمل", "ps": "بشپړ"},
    "closed_rejected": {"en": "Rejected", "ur": "مسترد", "ps": "رد شوی"},
    "closed_withdrawn": {"en": "Closed", "ur": "بند", "ps": "تړل شوی"},
}

# Words put into texts.
WORDS: Final[dict[str, dict[str, str]]] = {
    "no_due": {"en": "none", "ur": "کوئی نہیں", "ps": "نشته"},
}

# The frame of every e-mail.
EMAIL: Final[dict[str, str]] = {
    "en": "{name},\n\n{text}\n\nOpen it: {link}\n\n-- \ne-TMA, Online Civic Services Center\n"
    "Choose how we tell you, on your profile: {profile}\n",
    "ur": "محترم {name}،\n\n{text}\n\nتفصیل دیکھیں: {link}\n\n-- \n"
    "ای ٹی ایم اے، آن لائن شہری خدمات مرکز\n"
    "اطلاع کے طریقے اپنے پروفائل میں منتخب کریں: {profile}\n",
    "ps": "قدرمن {name}،\n\n{text}\n\nتفصیل وګورئ: {link}\n\n-- \n"
    "ای ټي ایم اې، د ښاري خدماتو آنلاین مرکز\n"
    "د خبرتیا لارې په خپل پروفایل کې وټاکئ: {profile}\n",
}
