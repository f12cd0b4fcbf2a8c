from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from shop.forms import ShopForm


class DocumentForm(ShopForm):
    licence_document = FileField("Scan of your licence", validators=[FileRequired("Attach a scan of your licence.")])
    licence_expiry = DateField(
        "Licence expiry date", format="%Y-%m-%d", validators=[DataRequired("Enter the expiry date as YYYY-MM-DD.")]
    )
    message = TextAreaField("Message for the verification desk (optional)", validators=[Optional(), Length(max=2000)])
