"""Names and canned texts for generated people, comments and notes."""

MALE = (
    "Muhammad", "Ahmad", "Ali", "Bilal", "Imran", "Kamran", "Tariq", "Faisal", "Usman", "Hamza",
    "Zubair", "Irfan", "Shahid", "Naveed", "Sajid", "Asad", "Waqas", "Adnan", "Junaid", "Noman",
    "Ijaz", "Rahim", "Gul", "Sher", "Jamal", "Fazal", "Iqbal", "Haroon", "Salman", "Yasir",
)  # fmt: skip
FEMALE = (
    "Ayesha", "Fatima", "Sana", "Nadia", "Maryam", "Zainab", "Hina", "Rabia", "Saima", "Shazia",
    "Amina", "Bushra", "Farzana", "Gulalai", "Khadija", "Lubna", "Nasreen", "Palwasha", "Samina",
    "Shabana", "Uzma", "Zarghuna", "Nazia", "Rukhsana", "Tahira",
)  # fmt: skip
FAMILY = (
    "Khan", "Afridi", "Yousafzai", "Shah", "Ahmad", "Gul", "Jan", "Khattak", "Mohmand",
    "Orakzai", "Bangash", "Durrani", "Swati", "Qureshi", "Awan", "Abbasi", "Tanoli", "Jadoon",
    "Mahsud", "Wazir", "Hussain", "Ullah", "Zaman", "Akbar", "Rehman", "Iqbal", "Malik",
)  # fmt: skip

# Comments an official writes when an action needs one, by the kind of action.
RETURN = (
    "The copy of the CNIC is not legible. Please upload a clear scan.",
    "The ownership document is missing the last page. Please attach the complete document.",
    "The site sketch does not show the nearest water line. Please correct it.",
    "The affidavit is not attested by an Oath Commissioner.",
    "The drawings are not signed by the architect. Please upload signed drawings.",
    "Please confirm the exact location with a nearby landmark.",
    "The challan amount does not match the fee. Please pay the correct amount.",
    "The address on the form does not match the ownership document.",
)
REJECT = (
    "The property lies outside the area of this organization.",
    "A duplicate of an application already in process.",
    "The land use at the site does not allow this construction.",
    "The applicant did not provide proof of ownership.",
    "The site does not meet the setback requirements of the bye-laws.",
    "The complaint could not be verified at the given location.",
)
REDO = (
    "The after photo shows garbage still lying there. Please send the crew again.",
    "The complainant reports the problem is not fixed. Please revisit.",
    "Work is incomplete. Please finish and attach a new photo.",
)
FORWARD = (
    "Checked and found in order.",
    "Documents verified.",
    "Site visited; report attached.",
    "Recommended for approval.",
    "Done.",
    "Disputed arrears: decision needed.",
)
RESOLVE = (
    "Fixed and verified with the complainant.",
    "Completed; the complainant confirmed by phone.",
    "The bill has been corrected; the new bill will be issued next month.",
    "Work done.",
)
RESUBMIT = (
    "Corrected as asked; the new document is attached.",
    "Attached the clear copy.",
    "Here is the exact location: near the mosque, second street on the left.",
    "Paid the correct amount.",
    "Please see the corrected drawings.",
)
CITIZEN_FOLLOW_UP = (
    "It has been many days. When will this be done?",
    "Any update on my application?",
    "The problem is still there. Please send someone.",
    "Please tell me what is pending.",
    "I visited the office but was told to wait. How long?",
)
OFFICIAL_REPLY = (
    "We are working on it and will update you soon.",
    "The inspection is scheduled for this week.",
    "Your application is with the approving officer.",
    "Sorry for the delay: the crew is on its way.",
)
INTERNAL_NOTE = (
    "Sub-engineer on leave this week; reassign if urgent.",
    "Check with the revenue office before approving.",
    "Same applicant filed a similar request last month.",
    "Vehicle not available; the visit is planned for Monday.",
    "Called the applicant, no answer.",
    "Priority: the MPA's office asked about this one.",
)
CITIZEN_QUESTION = (
    "Do I need to come to the office?",
    "Can I pay the fee at any bank?",
    "Which documents are still needed?",
)
WITHDRAW = (
    "No longer needed.",
    "Filed by mistake.",
    "Will apply again later.",
    "",
)
PHRASES = (
    "Near the main bazaar",
    "Opposite the government school",
    "Behind the hospital",
    "Next to the mosque",
    "Street 4, near the park",
    "Main road, by the petrol pump",
)
